/**
 * The validator compiler: TypeBox's compiled checks, strict about types, turning the first
 * failure into a problem that names the offending property.
 *
 * Why not Fastify's default Ajv: it coerces body types (`"amount": 100` would become "100",
 * `"nonce": "7"` would become 7) and silently removes additional properties. Bodies are
 * checked exactly as sent; only path and query values, which are always strings on the
 * wire, get integer properties converted — and only when the string is a plain integer
 * (TypeBox's own conversion would turn "5.5" into 5).
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { AMOUNT_MAX, ERROR_CODE } from './schemas.ts';
import { GatewayError, isWalletErrorCode, type ErrorCode } from './errors.ts';

/** A validation error as TypeBox (and Ajv) report it; only what we read. */
interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message: string;
}

type PropertySchemas = Record<string, Record<string, unknown>>;

/** Where a value came from, in the words a client reads in `detail`. */
const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

const PLAIN_INTEGER = /^-?[0-9]{1,16}$/;

/**
 * Fastify validator compiler (set with `setValidatorCompiler`).
 * The returned function answers `{ value }` or `{ error: GatewayError }` (400, with `field`).
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  const properties = propertySchemas(schema);
  const part = httpPart ?? 'body';
  const convert = part === 'querystring' || part === 'params';
  return (data: unknown) => {
    const value = convert ? convertIntegers(data, properties) : data;
    if (check.Check(value)) return { value };
    const errors = check.Errors(value) as SchemaError[];
    return { error: validationError(errors, part, properties, value) };
  };
};

function propertySchemas(schema: TSchema): PropertySchemas {
  const props = (schema as { properties?: unknown }).properties;
  return typeof props === 'object' && props !== null ? (props as PropertySchemas) : {};
}

/** Converts string values of integer-typed properties that spell a plain integer; leaves the rest for the check to reject. */
function convertIntegers(data: unknown, properties: PropertySchemas): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const out: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  for (const [name, value] of Object.entries(out)) {
    if (properties[name]?.type === 'integer' && typeof value === 'string' && PLAIN_INTEGER.test(value)) out[name] = Number(value);
  }
  return out;
}

/** Turns the first schema error into a GatewayError naming the property. */
export function validationError(errors: readonly SchemaError[], httpPart: string, properties: PropertySchemas, value: unknown): GatewayError {
  const where = PART_NAMES[httpPart] ?? httpPart;
  const first = errors[0];
  if (first === undefined) return new GatewayError('VALIDATION_FAILED', `${where} is invalid`);

  const missing = firstName(first.params.requiredProperties) ?? stringParam(first.params.missingProperty);
  if (first.keyword === 'required' && missing !== undefined) {
    return new GatewayError('VALIDATION_FAILED', `${where} is missing required property '${missing}'`, { field: missing });
  }
  const extra = firstName(first.params.additionalProperties) ?? stringParam(first.params.additionalProperty);
  if (first.keyword === 'additionalProperties' && extra !== undefined) {
    return unexpected(where, extra);
  }
  const field = topLevelName(first.instancePath);
  if (field === undefined) {
    const expected = httpPart === 'body' ? 'a JSON object' : 'valid';
    return new GatewayError('VALIDATION_FAILED', `${where} must be ${expected}: ${first.message}`);
  }
  const schema = properties[field];
  // TypeBox reports an additional property as the `false` schema failing at its path.
  if (schema === undefined || (first.keyword === 'boolean' && first.schemaPath.endsWith('/additionalProperties'))) {
    return unexpected(where, field);
  }
  const code = fieldCode(schema, field, value);
  if (code === 'AMOUNT_TOO_LARGE') {
    return new GatewayError(code, `${where} property '${field}' is above the largest amount, ${AMOUNT_MAX}`, { field });
  }
  const description = typeof schema.description === 'string' ? ` (expected: ${schema.description})` : '';
  return new GatewayError(code, `${where} property '${field}' ${first.message}${description}`, { field });
}

function unexpected(where: string, field: string): GatewayError {
  return new GatewayError('VALIDATION_FAILED', `${where} has unexpected property '${field}'`, { field });
}

/** The code a bad value of this property gets: the schema's x-error-code, refined for amounts. */
function fieldCode(schema: Record<string, unknown>, field: string, value: unknown): ErrorCode {
  const declared = schema[ERROR_CODE];
  const code: ErrorCode = isWalletErrorCode(declared) ? declared : 'VALIDATION_FAILED';
  if (code === 'INVALID_AMOUNT') {
    // A well-formed positive integer that failed the pattern can only be above 10^15.
    const raw = (value as Record<string, unknown> | null)?.[field];
    if (typeof raw === 'string' && /^[1-9][0-9]*$/.test(raw)) return 'AMOUNT_TOO_LARGE';
  }
  return code;
}

/** '/amount' → 'amount'; '/a/b' → 'a'; '' → undefined. JSON Pointer escapes are undone. */
function topLevelName(instancePath: string): string | undefined {
  if (!instancePath.startsWith('/')) return undefined;
  const segment = instancePath.slice(1).split('/')[0] ?? '';
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

function firstName(names: unknown): string | undefined {
  return Array.isArray(names) && typeof names[0] === 'string' ? names[0] : undefined;
}

function stringParam(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
