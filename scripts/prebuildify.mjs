// `npm run prebuildify`: builds this machine's prebuilt addon into prebuilds/<platform>-<arch>/
// (scripts/prebuild-addon.mjs, in a temporary copy of the native sources: build/ stays as it was).
// .github/workflows/prebuild.yml runs this on each platform the package ships; src/engine/addon-binary.ts loads the
// result. `npm run prebuildify:linux-arm64` cross-builds linux-arm64 on an x64 Debian (scripts/cross-build-linux-arm64.mjs).
// (Not named "prebuild": npm would run a script of that name before every `npm run build`.)
import { prebuildAddon } from "./prebuild-addon.mjs";

await prebuildAddon();
