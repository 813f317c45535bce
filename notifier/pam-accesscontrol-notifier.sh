#!/bin/sh
# pam-accesscontrol-notifier: starts the notifier built for the session's
# display server. Fyne's toolkit (GLFW) is built for X11 or for Wayland,
# not both: a Wayland session gets the Wayland build (no XWayland needed),
# any other the X11 one. Both are in ../libexec/pam-accesscontrol beside
# this script.
case $0 in
*/*) self=$0 ;;
*) self=$(command -v -- "$0") ;;
esac
dir=$(dirname -- "$(readlink -f -- "$self")")/../libexec/pam-accesscontrol
if [ -n "$WAYLAND_DISPLAY" ] && [ -x "$dir/pam-accesscontrol-notifier-wayland" ]; then
	exec "$dir/pam-accesscontrol-notifier-wayland" "$@"
fi
exec "$dir/pam-accesscontrol-notifier-x11" "$@"
