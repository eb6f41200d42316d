// Builds the pages into an output folder (default dist/): app.js (the game) and
// controller.js (the phone controller) bundled by esbuild, their HTML and the CSS copied. With --tests, bundles test/*.test.ts for Node's test
// runner into dist-test/ instead.
//   node scripts/build.mjs [--outdir DIR] [--tests]
import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

if (args.includes("--tests")) {
  const outdir = join(root, "dist-test");
  await rm(outdir, { recursive: true, force: true });
  const tests = (await readdir(join(root, "test"))).filter((f) => f.endsWith(".test.ts"));
  await build({
    entryPoints: tests.map((f) => join(root, "test", f)),
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
  });
} else {
  const outdir = flag("--outdir") ?? join(root, "dist");
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: {
      app: join(root, "src", "main.ts"),
      controller: join(root, "src", "controller.ts"),
      leaderboard: join(root, "src", "leaderboard.ts"),
      admin: join(root, "src", "admin.ts"),
      replay: join(root, "src", "replay.ts"),
    },
    outdir,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: "esm",
    target: ["es2020", "safari14"],
    logLevel: "warning",
  });
  for (const file of ["index.html", "controller.html", "leaderboard.html", "admin.html", "replay.html", "style.css", "favicon.svg"]) {
    await copyFile(join(root, "src", file), join(outdir, file));
  }
}
