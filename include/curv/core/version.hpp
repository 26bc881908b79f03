// Which build this is: run records, trajectories and benchmark reports carry it, so a number can
// be traced to the code that produced it.
#pragma once

namespace curv {

// `git describe --always --dirty` of the source tree at build time ("unknown" when it was built
// outside a git checkout), e.g. "84caa90" or "84caa90-dirty".
const char* git_commit();
// The library's version, from meson.build.
const char* version();

}  // namespace curv
