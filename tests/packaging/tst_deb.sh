#!/usr/bin/env bash
# The package a cluster admin installs: `cpack -G DEB` from the build folder, unpacked into a
# scratch root with `dpkg -x`; checks that it holds both programs, their man pages, the icon the
# desktop entry names, that the desktop entry and AppStream data validate, and that the installed
# plateau-cli runs `describe` and a small local sweep (2 points) to the end.
#   tests/packaging/tst_deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/plateau-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "tst_deb: FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/pkg" > "$work/cpack.log" 2>&1) || { tail -n 30 "$work/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$work"/pkg/*.deb | head -n1)
[ -f "$deb" ] || fail "no .deb was made"
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
info=$(dpkg-deb --info "$deb")
grep -q "Package: plateau$" <<< "$info" || fail "the package is not named plateau"
grep -q "Depends: .*libtorch" <<< "$info" || fail "the package does not depend on LibTorch"
dpkg -x "$deb" "$work/root"
root=$work/root
for f in usr/bin/plateau usr/bin/plateau-cli usr/share/man/man1/plateau.1 usr/share/man/man1/plateau-cli.1 \
         usr/share/applications/plateau.desktop usr/share/metainfo/io.plateau.Plateau.metainfo.xml \
         usr/share/icons/hicolor/scalable/apps/plateau.svg; do
  [ -s "$root/$f" ] || fail "$f is missing or empty"
done
grep -q "^Icon=plateau$" "$root/usr/share/applications/plateau.desktop" || fail "the desktop entry names no icon"
grep -q "sweep" "$root/usr/share/man/man1/plateau-cli.1" || fail "plateau-cli.1 does not document the sweep commands"
man -l "$root/usr/share/man/man1/plateau-cli.1" > /dev/null 2>&1 || groff -man -Tutf8 "$root/usr/share/man/man1/plateau-cli.1" > /dev/null \
  || fail "plateau-cli.1 does not render"
desktop-file-validate "$root/usr/share/applications/plateau.desktop" || fail "desktop-file-validate"
appstreamcli validate --no-net "$root/usr/share/metainfo/io.plateau.Plateau.metainfo.xml" || fail "appstreamcli validate"

cli=$root/usr/bin/plateau-cli
"$cli" --version | grep -q "plateau-cli" || fail "plateau-cli --version"
"$cli" describe --preset tiny > "$work/describe.json" || fail "installed plateau-cli describe"
grep -q '"parameter_count"' "$work/describe.json" || fail "describe printed no parameter count"
"$cli" sweep --preset tiny --out "$work/sw" --grid model.width=16,24 --set train.steps=20 \
  --set train.checkpoint_every=0 --jobs 2 > "$work/sweep.log" 2>&1 || { cat "$work/sweep.log" >&2; fail "installed plateau-cli sweep"; }
"$cli" sweep-summary "$work/sw" --csv > "$work/summary.csv" || fail "sweep-summary"
[ "$(grep -c ',finished,20,' "$work/summary.csv")" -eq 2 ] || { cat "$work/summary.csv" >&2; fail "the sweep's 2 points did not finish"; }
echo "tst_deb: PASS"
