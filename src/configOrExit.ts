/** Configuration for long-running commands: one line per problem on stderr, then exit 2. */
import { ConfigError, loadConfig, type Config } from './config.ts';

export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error:\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`);
      process.exit(2);
    }
    throw err;
  }
}
