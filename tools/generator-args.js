'use strict';
// The command line both generators take: [--package DIR] [--out FILE] [--quiet], the package
// defaulting to what scripts/fetch-fhir-package.sh puts in .cache/.

const path = require('path');

function parseArgs(argv, script, defaultOut) {
  const repo = path.resolve(__dirname, '..');
  const args = { pkg: path.join(repo, '.cache', 'fhir', 'package'), out: path.join(repo, defaultOut) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--package' && i + 1 < argv.length) args.pkg = argv[++i];
    else if (a === '--out' && i + 1 < argv.length) args.out = argv[++i];
    else if (a === '--quiet') args.quiet = true;
    else {
      process.stderr.write(`usage: ${script} [--package DIR] [--out FILE] [--quiet]\n`);
      process.exit(2);
    }
  }
  return args;
}

module.exports = { parseArgs };
