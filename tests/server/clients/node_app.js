// A QLDB application for the Node.js driver 3.1.0, unchanged: only the environment
// (AWS_ENDPOINT_URL_QLDB_SESSION, AWS_ENDPOINT_URL_QLDB, region, credentials) points it
// at `ledger serve`.  Usage: node node_app.js SCENARIO LEDGER; prints one JSON line.
"use strict";
const { QldbDriver, RetryConfig } = require("amazon-qldb-driver-nodejs");
const { QLDB } = require("@aws-sdk/client-qldb");
const { dom } = require("ion-js");

async function basic(ledger) {
  const driver = new QldbDriver(ledger);
  await driver.executeLambda((tx) => tx.execute("CREATE TABLE Shipment"));
  const ids = await driver.executeLambda(async (tx) => {
    const out = [];
    for (let i = 0; i < 3; i++) {
      const r = await tx.execute("INSERT INTO Shipment ?", { ref: `S${i}`, weight: i * 1.5, note: 'say "hi"' });
      out.push(r.getResultList()[0].get("documentId").stringValue());
    }
    return out;
  });
  const refs = await driver.executeLambda(async (tx) => {
    const r = await tx.execute("SELECT VALUE s.ref FROM Shipment AS s WHERE s.note = ?", 'say "hi"');
    return r.getResultList().map((v) => v.stringValue()).sort();
  });
  let caught = null;
  await driver.executeLambda(async (tx) => {
    try {
      await tx.execute("SELECT * FROM Missing");
    } catch (e) {
      caught = e.name;
    }
    await tx.execute("UPDATE Shipment AS s SET s.weight = 99 WHERE s.ref = 'S0'");
  });
  const weight = await driver.executeLambda(async (tx) =>
    (await tx.execute("SELECT VALUE s.weight FROM Shipment AS s WHERE s.ref = 'S0'")).getResultList()[0].numberValue());
  const tables = await driver.getTableNames();
  driver.close();
  const qldb = new QLDB({});
  const digest = await qldb.getDigest({ Name: ledger });
  const described = await qldb.describeLedger({ Name: ledger });
  return { ids, refs, caught, weight, tables, digestLength: digest.Digest.length,
           tip: digest.DigestTipAddress.IonText, state: described.State,
           created: described.CreationDateTime instanceof Date };
}

async function race(ledger) {
  const setup = new QldbDriver(ledger);
  await setup.executeLambda((tx) => tx.execute("CREATE TABLE Counter"));
  await setup.executeLambda((tx) => tx.execute("INSERT INTO Counter ?", { value: 0 }));
  let attempts = 0;
  let arrived = 0;
  let release;
  const bothRead = new Promise((resolve) => { release = resolve; });
  const bump = async (driver) => driver.executeLambda(async (tx) => {
    attempts += 1;
    const first = attempts <= 2;
    const value = (await tx.execute("SELECT VALUE c.value FROM Counter AS c")).getResultList()[0].numberValue();
    if (first) {
      arrived += 1;
      if (arrived === 2) release();
      await bothRead;
    }
    await tx.execute("UPDATE Counter AS c SET c.value = ?", value + 1);
  });
  const a = new QldbDriver(ledger);
  const b = new QldbDriver(ledger);
  await Promise.all([bump(a), bump(b)]);
  const final = await setup.executeLambda(async (tx) =>
    (await tx.execute("SELECT VALUE c.value FROM Counter AS c")).getResultList()[0].numberValue());
  [a, b, setup].forEach((d) => d.close());
  return { attempts, final };
}

const scenarios = { basic, race };
scenarios[process.argv[2]](process.argv[3]).then(
  (result) => { console.log(JSON.stringify(result)); },
  (error) => { console.error(error); process.exit(1); },
);
