/**
 * Every environment variable Switchboard reads, in one zod schema. `loadConfig()` returns a frozen,
 * typed Config or throws a ConfigError whose message has one line per bad variable.
 */
import os from 'node:os';
import { z } from 'zod';

const int = (def: number, min = 0) =>
  z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(min, `expected a number ≥ ${min}`).default(def);
const optionalText = z.string().trim().min(1).optional();
const csv = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const role = z.enum(['viewer', 'operator', 'admin']);

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),

  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// or mongodb+srv:// URL')
    .optional(),
  MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'expected a database name').default('switchboard'),
  DATA_DIR: z.string().min(1).default('.data'),
  LOCAL_MONGO_PORT: int(27027, 1).pipe(z.number().max(65535)),
  /** Storage of a local FerretDB: files under DATA_DIR, or the PostgreSQL database of LOCAL_MONGO_POSTGRESQL_URL. */
  LOCAL_MONGO_STORAGE: z.enum(['sqlite', 'postgresql']).default('sqlite'),
  /** Created if missing; FerretDB keeps each MongoDB database as a schema in it. */
  LOCAL_MONGO_POSTGRESQL_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^/]*\/[^/?]+/, 'expected a postgres:// URL with a database name')
    .default('postgres://127.0.0.1:5432/switchboard_ferretdb'),

  PORT: int(3000, 0).pipe(z.number().max(65535)),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  /** Public base of the web dashboard's sign-in links (default http://localhost:PORT). */
  DASHBOARD_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** How long a dashboard session lasts after signing in with a chat link. */
  DASHBOARD_SESSION_HOURS: int(12, 1),

  WORKER_NAME: z.string().min(1).default(`${os.hostname()}-${process.pid}`),
  ENGINE_PROCESS_EVERY_MS: int(1000, 50),
  ENGINE_MAX_CONCURRENCY: int(20, 1),
  ENGINE_LOCK_LIFETIME_MS: int(60_000, 1000),
  SHUTDOWN_GRACE_MS: int(30_000, 0),
  GUARD_REFRESH_MS: int(1000, 100),
  /** How long a concurrency slot outlives a holder that stopped renewing it (a killed worker). */
  SLOT_LEASE_MS: int(30_000, 1000),
  JOB_RUNS_RETENTION_DAYS: int(30, 1),
  HTTP_INVOKE_ALLOWED_HOSTS: csv,
  /** Base URL of the discovery provider (jobs/discoveryHarvest.ts); the job is loaded only when set. */
  DISCOVERY_URL: z.url({ protocol: /^https?$/ }).optional(),

  CB_FAILURE_THRESHOLD: int(5, 1),
  CB_COOLDOWN_MS: int(60_000, 0),

  SLACK_BOT_TOKEN: optionalText,
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText,
  SLACK_API_URL: z.url().optional(),
  SLACK_COMMAND: z.string().regex(/^\/[a-z0-9_-]+$/, 'expected a slash command like /ops').default('/ops'),
  SLACK_ADMIN_USER_IDS: csv,
  SLACK_DEFAULT_ROLE: z.enum(['viewer', 'operator', 'admin', 'none']).default('viewer'),
  SLACK_ALERT_CHANNEL: optionalText,

  TELEGRAM_BOT_TOKEN: optionalText,
  TELEGRAM_API_ROOT: z.url().optional(),
  TELEGRAM_WEBHOOK_URL: z.url().optional(),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, 'expected 1-256 characters of A-Z, a-z, 0-9, _ and -')
    .optional(),
  TELEGRAM_OWNER_ID: z.coerce.number().int().positive().optional(),
  SIGNUP_PIN_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
  SIGNUP_DEFAULT_ROLE: role.default('viewer'),

  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  ALERT_ROUTES: optionalText,
});

export type Config = Readonly<z.infer<typeof envSchema>>;

/** Thrown for a bad environment: `message` has one line per problem, naming the variable. */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parses the environment (process.env by default); empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const got = input[name] === undefined ? '' : ` (got ${JSON.stringify(redactIfSecret(name, input[name]))})`;
      return `${name}: ${issue.message}${got}`;
    });
    throw new ConfigError(problems);
  }
  return Object.freeze(parsed.data);
}

function redactIfSecret(name: string, value: string): string {
  return /TOKEN|SECRET|KEY|PASSWORD/.test(name) ? '[redacted]' : value;
}
