#!/usr/bin/env bash
# Build the mnviewer bundle and its Debian package: `make package` runs this.
#
#   1. build the default model (int8) in a private MNVIEWER_HOME and stage it with the source
#      files every other model is built from on first use, the labels, demo video, icons and
#      licenses;
#   2. freeze the app with PyInstaller into dist/mnviewer/ (one folder);
#   3. pack dist/mnviewer_<version>_<arch>.deb with dpkg-deb.
#
# MNVIEWER_MIRROR is honoured when fetching source files. Work files go to build/package/ and
# build/pyinstaller/; both are kept, so a second run only redoes what changed.
# MNVIEWER_DEB_COMPRESSION=zstd packs the .deb in seconds instead of about 2 minutes with xz
# (the default: 15% smaller and readable by any dpkg); the smoke test uses it.
set -euo pipefail
umask 022

cd "$(dirname "$0")/.."
REPO=$PWD
WORK=$REPO/build/package
DIST=$REPO/dist
BUNDLE=$DIST/mnviewer
INTERNAL=$BUNDLE/_internal
if [ -x "$REPO/.venv/bin/python" ]; then PY=$REPO/.venv/bin/python; else PY=python3; fi

fail() { echo "packaging/build.sh: error: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
step() { echo; echo "==> $*"; }

# --- preconditions: fail before spending minutes -------------------------------------------
for icon in resources/mnviewer.svg resources/mnviewer.png; do
    [ -f "$icon" ] || fail "$icon is missing: the package needs the app icon (SVG, and PNG of 256x256 or more)"
done
command -v dpkg-deb >/dev/null || fail "dpkg-deb not found: the .deb needs Debian's dpkg tools"
"$PY" -c "import PyInstaller" 2>/dev/null \
    || fail "PyInstaller is not installed for $PY: run 'make package', which installs '.[package]'"
case "${MNVIEWER_DEB_COMPRESSION:-xz}" in
    xz) compress=(-Zxz -z6) ;;
    zstd) compress=(-Zzstd -z9) ;;
    *) fail "MNVIEWER_DEB_COMPRESSION=$MNVIEWER_DEB_COMPRESSION is not supported: use xz or zstd" ;;
esac
VERSION=$("$PY" -c "import mnviewer; print(mnviewer.__version__)")
ARCH=$(dpkg --print-architecture)
DEB=$DIST/mnviewer_${VERSION}_${ARCH}.deb
T0=$(now)

# --- 1. models, sources, icons and licenses ------------------------------------------------
step "staging models and licenses (MNVIEWER_MIRROR=${MNVIEWER_MIRROR:-unset})"
t=$(now)
"$PY" packaging/stage.py --stage "$WORK/stage" --home "$WORK/home"
echo "staged in $(since "$t")"

# --- 2. freeze -----------------------------------------------------------------------------
step "freezing with PyInstaller"
t=$(now)
# PYINSTALLER_CONFIG_DIR: keep its cache under build/ too, not in ~/.cache.
MNVIEWER_STAGE=$WORK/stage PYINSTALLER_CONFIG_DIR=$REPO/build/pyinstaller/config \
    "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --workpath "$REPO/build/pyinstaller" --distpath "$DIST" packaging/mnviewer.spec
chmod -R u+rwX,go+rX,go-w "$BUNDLE"
# The Python runtime comes with its symbols (24 MB of them). The wheels' libraries are
# stripped already, and stripping their patched ELF headers again can break them.
if command -v strip >/dev/null; then
    strip --strip-unneeded "$INTERNAL"/libpython3*.so* "$INTERNAL"/python3*/lib-dynload/*.so
fi
echo "frozen in $(since "$t")"

required=(
    models/catalog.json resources/mnviewer.png licenses/THIRD-PARTY-NOTICES.txt
    prebuilt/mobilenet-v1-1.0-224/int8.xml prebuilt/sources/bottle-detection.mp4
    prebuilt/sources/imagenet_labels.txt prebuilt/sources/mobilenet_v1_0.25_128_quant.tflite
    PySide6/Qt/plugins/platforms/libqxcb.so PySide6/Qt/plugins/platforms/libqoffscreen.so
    PySide6/Qt/plugins/platforms/libqminimal.so
)
for plugin in intel_cpu intel_gpu auto hetero; do
    required+=("openvino/libs/libopenvino_${plugin}_plugin.so")
done
for path in "${required[@]}"; do
    [ -e "$INTERNAL/$path" ] || fail "the bundle lacks _internal/$path: see packaging/mnviewer.spec"
done
for frontend in ir tensorflow_lite onnx; do
    compgen -G "$INTERNAL/openvino/libs/libopenvino_${frontend}_frontend.so*" >/dev/null \
        || fail "the bundle lacks OpenVINO's $frontend frontend: see packaging/mnviewer.spec"
done
"$BUNDLE/mnviewer" --version >/dev/null || fail "the frozen app does not start: run $BUNDLE/mnviewer --version"

# --- 3. Debian package ---------------------------------------------------------------------
step "packing $(basename "$DEB")"
t=$(now)
ROOT=$WORK/deb
rm -rf "$ROOT"
mkdir -p "$ROOT/opt" "$ROOT/usr/bin" "$ROOT/usr/share/applications" \
    "$ROOT/usr/share/icons/hicolor/256x256/apps" "$ROOT/usr/share/icons/hicolor/scalable/apps" \
    "$ROOT/usr/share/doc/mnviewer" "$ROOT/DEBIAN"
cp -al "$BUNDLE" "$ROOT/opt/mnviewer" 2>/dev/null || cp -a "$BUNDLE" "$ROOT/opt/mnviewer"
# Relative, so that the command also works in a tree unpacked with `dpkg -x`.
ln -s ../../opt/mnviewer/mnviewer "$ROOT/usr/bin/mnviewer"
install -m 0644 packaging/linux/mnviewer.desktop "$ROOT/usr/share/applications/"
install -m 0644 "$WORK/stage/icons/mnviewer.svg" "$ROOT/usr/share/icons/hicolor/scalable/apps/"
install -m 0644 "$WORK/stage/icons/mnviewer.png" "$ROOT/usr/share/icons/hicolor/256x256/apps/"
{
    echo "mnviewer is licensed under the Apache License 2.0 (/usr/share/common-licenses/Apache-2.0)."
    echo "The license texts of everything bundled are in /opt/mnviewer/_internal/licenses/."
    echo
    cat "$INTERNAL/licenses/THIRD-PARTY-NOTICES.txt"
} >"$ROOT/usr/share/doc/mnviewer/copyright"
# One script for both: it acts on configure (postinst) and on remove/purge (postrm).
install -m 0755 packaging/linux/maintscript "$ROOT/DEBIAN/postinst"
install -m 0755 packaging/linux/maintscript "$ROOT/DEBIAN/postrm"
DEPENDS=$("$PY" packaging/linux/depends.py "$BUNDLE")
INSTALLED_KB=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@INSTALLED_KB@|$INSTALLED_KB|" \
    -e "s|@DEPENDS@|$DEPENDS|" packaging/linux/control.in >"$ROOT/DEBIAN/control"
rm -f "$DIST"/mnviewer_*.deb
dpkg-deb --root-owner-group --threads-max="$(nproc)" "${compress[@]}" --build "$ROOT" "$DEB" >/dev/null
rm -rf "$ROOT"
echo "packed in $(since "$t")"

# --- report --------------------------------------------------------------------------------
step "sizes"
(cd "$INTERNAL" && du -sh -- * | sort -rh | head -12)
echo "bundle  $(du -sh "$BUNDLE" | cut -f1)  $BUNDLE"
echo ".deb    $(du -sh "$DEB" | cut -f1)  $DEB"
echo "total build time $(since "$T0")"
