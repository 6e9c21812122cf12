#!/usr/bin/env python3
"""Fails when `cargo build -p sirocco-cli` would compile dependencies the test build did not.

Cargo resolves features from the packages being built, so a package built alone can get a
dependency with fewer features than `cargo test --workspace` gave it — a second copy of it and of
everything above it (llama.cpp included). crates/sirocco-workspace-hack pins the workspace's
features; this compares the two unit graphs (no compiling: `--unit-graph`, which stable Cargo
prints under RUSTC_BOOTSTRAP) and names each dependency and feature to add there.
"""
import json
import os
import subprocess
import sys

TRIPLE = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
TRIPLE = next(l.split(": ")[1] for l in TRIPLE.splitlines() if l.startswith("host: "))


def units(args):
    env = dict(os.environ, RUSTC_BOOTSTRAP="1")
    cmd = ["cargo", "build", "--unit-graph", "-Z", "unstable-options", "--target", TRIPLE] + args
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    seen = {}
    for u in json.loads(out.stdout)["units"]:
        if u["mode"] == "run-custom-build":
            continue
        # With --target, host units (build scripts, proc-macros and their dependencies) have no platform.
        key = (u["pkg_id"], u["target"]["name"], u["mode"], u["platform"])
        seen.setdefault(key, set()).add(tuple(sorted(u["features"])))
    return seen


def main():
    test_build = units(["--workspace", "--tests"])
    diverged = []
    for build in (["-p", "sirocco-cli"], ["-p", "sirocco", "-p", "sirocco-cli"]):
        for key, feature_sets in units(build).items():
            pkg, _target, _mode, platform = key
            if pkg.startswith("path+"):
                continue  # workspace members: built per selection anyway
            for features in feature_sets - test_build.get(key, set()):
                wanted = sorted(set().union(*map(set, test_build.get(key, set()))) - set(features))
                side = "build-dependencies (host)" if platform is None else "dependencies"
                name = pkg.split("#")[-1]
                diverged.append(f"  {' '.join(build)}: {name} [{side}] lacks {wanted or 'nothing: different set'}")
    if diverged:
        print("These builds would compile dependencies again; add the features to")
        print("crates/sirocco-workspace-hack/Cargo.toml:")
        print("\n".join(sorted(set(diverged))))
        sys.exit(1)
    print("cargo build -p sirocco-cli shares every dependency with the test build")


main()
