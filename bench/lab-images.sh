# Sourced by the bench/* host scripts (bash): pins the guest images a benchmark uses.
#   bench_images NAME...   makes sure the lab's images are built from this checkout's sources, then
#                          copies NAME... from .lab/images into target/bench-images/ (in the repo, so L1
#                          sees it over the 9p share as $PWD/target/bench-images) and sets
#                          bench_images_l1 to the assignment that points an L1 script at the copy.
# Why a copy: .lab may be a symlink to a directory outside the repo (git worktrees share one lab), which
# L1 cannot follow; and another checkout sharing that .lab may rebuild it while a benchmark runs. The
# copy is what every run of one benchmark boots.
bench_images() {
  local f ok try dst=target/bench-images want
  # the same inputs hash as ./lab's own staleness check
  want=$(cat guest-images/lab/build.sh guest-images/lab/mkcpio.py guest-images/lab/l1-init \
           guest-images/lab/l1-bin/* guest-images/initramfs/init guest-images/baremetal/* \
           guest-images/debian/build.sh guest-images/debian/arm64-ns.py $(find guest-images/debian/rootfs -type f | sort) \
         | sha256sum | cut -c1-32)
  mkdir -p .lab
  for try in 1 2 3; do
    # under the lab's build lock, so no other checkout rebuilds between the check and the copy
    ok=$(
      exec 9>.lab/.build-lock; flock 9
      [ "$(cat .lab/stamp 2>/dev/null)" = "$want" ] || exit 0
      rm -rf "$dst"; mkdir -p "$dst"
      for f in "$@"; do cp ".lab/images/$f" "$dst/" || exit 0; done
      echo yes)
    if [ "$ok" = yes ]; then bench_images_l1='JVMM_IMAGES=$PWD/target/bench-images'; return 0; fi
    ./lab build || return 1
  done
  echo "bench: the lab keeps being rebuilt from another checkout; try again later" >&2
  return 1
}
