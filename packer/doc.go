// Package packer owns the GPU worker image: worker.pkr.hcl (the Packer template), the
// provisioning scripts in scripts/, the tesuji-worker systemd unit and ami.sh, which
// `make ami` runs. It has no Go API; its tests are the image's CI checks: packer fmt and
// validate with Debian's Packer 1.6.6, shellcheck on every script, systemd-analyze verify
// on the unit, and an end-to-end run of the provisioning scripts into a throwaway root
// against a stand-in KataGo, with downloads served locally.
package packer
