"""The app's window as the X server sees it, for the end-to-end tests (python-xlib comes with
tests/fixtures/fetch.sh).

    python window.py close TITLE   asks it to close the way a window manager does when the user
                                   clicks its close button: a WM_DELETE_WINDOW client message
                                   (WebDriver's "close window" bypasses the app)
    python window.py state TITLE   prints "shown" or "hidden" (mapped or not; never made is
                                   hidden), and "focused" after it when the keyboard's focus
                                   is in it
"""
import sys

from Xlib import X, display
from Xlib.protocol import event

action, title = sys.argv[1], sys.argv[2]
d = display.Display()
delete = d.intern_atom("WM_DELETE_WINDOW")
protocols = d.intern_atom("WM_PROTOCOLS")


def find(window):
    try:
        if window.get_wm_name() == title and delete in (window.get_wm_protocols() or []):
            return window
        children = window.query_tree().children
    except Exception:
        return None
    for child in children:
        found = find(child)
        if found:
            return found
    return None


window = find(d.screen().root)
if window is None and action == "state":
    # Never shown: GTK has not even made its X window yet.
    print("hidden")
    raise SystemExit(0)
if window is None:
    raise SystemExit(f"no window titled {title!r}")
if action == "close":
    window.send_event(event.ClientMessage(window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])))
    d.flush()
    print("close requested")
elif action == "state":
    shown = window.get_attributes().map_state == X.IsViewable
    focus = d.get_input_focus().focus
    inside = False
    while isinstance(focus, type(window)) and focus.id != d.screen().root.id:
        if focus.id == window.id:
            inside = True
            break
        focus = focus.query_tree().parent
    print(("shown" if shown else "hidden") + (" focused" if inside else ""))
else:
    raise SystemExit(f"unknown action {action!r}")
