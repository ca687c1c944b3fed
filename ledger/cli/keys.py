"""Key bindings for the shell's multi-line input.

Enter runs the input when ``buffer.is_complete`` says so and otherwise starts a new
line; Esc+Enter always starts a new line; Enter on a highlighted completion accepts
it; Ctrl-Space opens the completion menu.  Ctrl-R (history search) and the rest of
Emacs editing come from prompt_toolkit's defaults.
"""

from __future__ import annotations

from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import completion_is_selected, has_focus
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from ledger.cli.buffer import is_complete


def shell_bindings() -> KeyBindings:
    kb = KeyBindings()
    editing = has_focus(DEFAULT_BUFFER)  # not the Ctrl-R search line

    @kb.add("enter", filter=editing & completion_is_selected)
    def _accept_completion(event: KeyPressEvent) -> None:
        event.current_buffer.complete_state = None

    @kb.add("enter", filter=editing & ~completion_is_selected)
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        buffer.complete_state = None
        if is_complete(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @kb.add("escape", "enter", filter=editing)
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @kb.add("c-space")
    def _complete(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state:
            buffer.complete_next()
        else:
            buffer.start_completion(select_first=False)

    return kb
