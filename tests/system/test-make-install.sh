#!/usr/bin/env bash
# tests/system/test-make-install.sh — "make install" of a configured build into a scratch
# DESTDIR, checked as the README's "Install into an existing Apache" uses it:
#   - the module where apxs says, and interactions.load naming it there;
#   - interactions-migrate pointing at the SQL installed under its prefix;
#   - the installed sample site's "Alias /desktop" and <Directory> naming the directory where
#     the desktop was installed (the prefix's, /usr/local/share/... by default), which holds
#     index.html: with the source's /usr/share path the desktop answered 404;
#   - no Debian-only variable (${APACHE_...}) in the installed configuration files.
#
#   tests/system/test-make-install.sh BUILDDIR      (a build configured by scripts/lib/stack)
set -euo pipefail

build=${1:?usage: test-make-install.sh BUILDDIR}
say() { printf 'test-make-install: %s\n' "$*"; }
die() { printf 'test-make-install: FAILED: %s\n' "$*" >&2; exit 1; }

dest=$(mktemp -d /tmp/mi-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
make -C "$build" install DESTDIR="$dest" >"$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; die "make install"; }
rm -f "$dest.log"
var() { make -s -C "$build" --no-print-directory -f Makefile -f - print-"$1" <<<"print-%: ; @echo \$(\$*)"; }
pkgdatadir=$(var pkgdatadir) exampledir=$(var exampledir) bindir=$(var bindir)
libexec=$(var APXS_LIBEXECDIR) sysconf=$(var APXS_SYSCONFDIR)

[ -f "$dest$libexec/mod_interactions.so" ] || die "no $libexec/mod_interactions.so"
grep -qx "LoadModule interactions_module $libexec/mod_interactions.so" "$dest$sysconf/mods-available/interactions.load" \
    || die "interactions.load does not name $libexec/mod_interactions.so"
sqldir=$(sed -n 's/^installed_sqldir="\(.*\)"$/\1/p' "$dest$bindir/interactions-migrate")
if [ "$sqldir" != "$pkgdatadir/sql" ] || [ ! -f "$dest$sqldir/migrations/V001__foundation.sql" ]; then
    die "interactions-migrate looks for its SQL in '$sqldir'"
fi

site="$dest$exampledir/interactions-site.conf"
[ -f "$site" ] || die "no sample site in $exampledir"
alias=$(awk '$1 == "Alias" && $2 == "/desktop" { print $3 }' "$site")
directory=$(sed -n 's/^ *<Directory \(.*\)>$/\1/p' "$site")
[ "$alias" = "$pkgdatadir/desktop" ] || die "the sample's Alias /desktop names '$alias', the desktop is in $pkgdatadir/desktop"
[ "$directory" = "$alias" ] || die "the sample's <Directory $directory> is not its Alias $alias"
if [ ! -f "$dest$alias/index.html" ] || [ ! -f "$dest$alias/vendor/cometd/cometd.js" ]; then
    die "no desktop in $alias"
fi
# shellcheck disable=SC2016  # the literal text ${APACHE_, not a variable
if grep -n '\${APACHE_' "$site" "$dest$sysconf/mods-available/interactions.conf" "$dest$sysconf/mods-available/interactions.load"; then
    die "the installed configuration uses Debian-only variables"
fi
say "ok: module in $libexec, SQL in $sqldir, the sample's desktop at $alias"
