"""A file manager on the D-Bus session bus, as far as apps see one: it owns
org.freedesktop.FileManager1 and records each ShowItems call (one URI per line in the file
given), the call Nautilus, Dolphin and Nemo answer when an app asks to show a file.
Prints READY once the name is owned. Runs with the system Python (python3-gi)."""
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

XML = """<node><interface name="org.freedesktop.FileManager1">
  <method name="ShowItems"><arg type="as" name="uris" direction="in"/><arg type="s" name="startup_id" direction="in"/></method>
  <method name="ShowFolders"><arg type="as" name="uris" direction="in"/><arg type="s" name="startup_id" direction="in"/></method>
</interface></node>"""
record = sys.argv[1]


def on_call(_conn, _sender, _path, _iface, method, params, invocation):
    uris = params.unpack()[0]
    with open(record, "a") as f:
        for uri in uris:
            f.write(f"{method} {uri}\n")
    invocation.return_value(None)


def on_bus(conn, _name):
    conn.register_object("/org/freedesktop/FileManager1", Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0], on_call)


def on_name(_conn, _name):
    print("READY", flush=True)


Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.FileManager1", Gio.BusNameOwnerFlags.NONE, on_bus, on_name, None)
GLib.MainLoop().run()
