#!/usr/bin/env bash
# A lab's autograder on Ubuntu 22.04, the system of Gradescope's images: a minimal jammy root made
# by debootstrap, the autograder zip's setup.sh run in it (packages, then the library and the
# lab), then run_autograder for a correct submission (the reference's files) and an empty one.
# Not a CTest test: it needs root, debootstrap and archive.ubuntu.com, and takes about 15
# minutes. Run it by hand after changing ./dsys setup, the CMake files or the packages:
#
#   sudo tests/instructor/ubuntu_trial.sh [LAB] [ROOT]     (default lab1, /tmp/dsys-jammy)
#
# It prints both scores; it exits non-zero unless the correct submission gets every point and the
# empty one none. ROOT is kept (remove it with: umount ROOT/dev/pts ROOT/dev ROOT/proc; rm -rf ROOT).
set -euo pipefail
kit=$(cd "$(dirname "$0")/../.." && pwd)
lab=${1:-lab1}
root=${2:-/tmp/dsys-jammy}
[ "$(id -u)" = 0 ] || { echo "ubuntu_trial: run it as root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap

if [ ! -x "$root/usr/bin/apt-get" ]; then
  debootstrap --variant=minbase --components=main,universe jammy "$root" http://archive.ubuntu.com/ubuntu
fi
cat >"$root/etc/apt/sources.list" <<'EOF'
deb http://archive.ubuntu.com/ubuntu jammy main universe
deb http://archive.ubuntu.com/ubuntu jammy-updates main universe
deb http://security.ubuntu.com/ubuntu jammy-security main universe
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
mountpoint -q "$root/dev/pts" || mount --bind /dev/pts "$root/dev/pts"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

rm -rf "$root/autograder"
mkdir -p "$root/autograder/source" "$root/autograder/submission" "$root/autograder/results"
python3 "$kit/tools/submissions.py" autograder "$lab" --out "$root/autograder/lab.zip"
(cd "$root/autograder/source" && python3 -c 'import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1]) as z:
    for i in z.infolist():
        p = z.extract(i)
        if i.external_attr >> 16: os.chmod(p, (i.external_attr >> 16) & 0o777)' ../lab.zip)
cp "$root/autograder/source/run_autograder" "$root/autograder/run_autograder"
in_root bash /autograder/source/setup.sh

# score: "SCORE MAX" of the results.json just written (MAX: the points of the tests it ran).
score() {
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["score"], sum(t.get("max_score", 0) for t in r.get("tests", [])))' "$root/autograder/results/results.json"
}
for f in $(python3 "$kit/tools/submissions.py" files "$lab" --own); do
  mkdir -p "$root/autograder/submission/$(dirname "$f")"
  cp "$kit/${f/labs\//solutions/}" "$root/autograder/submission/$f"
done
in_root bash /autograder/run_autograder
read -r correct max < <(score)
rm -rf "$root/autograder/submission"/*
in_root bash /autograder/run_autograder
read -r empty _ < <(score)
echo "ubuntu_trial: $lab on Ubuntu 22.04: a correct submission scored $correct of $max, an empty one $empty"
python3 -c "import sys; c, m, e = map(float, sys.argv[1:]); sys.exit(0 if c == m > 0 and e == 0 else 1)" \
  "$correct" "$max" "$empty"
