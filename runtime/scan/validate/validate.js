// Validates glTF 2.0 binary files with the Khronos glTF validator and prints one JSON
// line per file: {file, errors, warnings, infos, messages}. Exits 1 when a file has an
// error. Usage: node validate.js FILE.glb ...
"use strict";
const fs = require("fs");
const validator = require("gltf-validator");

async function main(files) {
  let failed = false;
  for (const file of files) {
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)), {
      uri: file,
      maxIssues: 100,
    });
    const issues = report.issues;
    console.log(
      JSON.stringify({
        file,
        errors: issues.numErrors,
        warnings: issues.numWarnings,
        infos: issues.numInfos,
        messages: issues.messages.map((m) => `${m.severity} ${m.code} ${m.pointer || ""}: ${m.message}`),
      })
    );
    if (issues.numErrors > 0) failed = true;
  }
  process.exit(failed ? 1 : 0);
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e);
  process.exit(2);
});
