/**
 * The vocabulary generated jobs are drawn from: models, customers, projects, workflows, filenames and
 * errors, with weights that give a realistic mix. Project and workflow ids are derived from the seed.
 */
import {
  type CURRENT_ENDPOINTS,
  DOCUMENT_TYPES,
  type Endpoint,
  type JobError,
  type LEGACY_ENDPOINTS,
} from '../retab/index.ts';
import { mixSeed, Random } from './random.ts';

export const MODEL_WEIGHTS = {
  'gpt-4.1': 18,
  'gpt-4.1-mini': 22,
  'gpt-5': 8,
  'gpt-5-mini': 14,
  'gemini-2.5-pro': 9,
  'gemini-2.5-flash': 16,
  'claude-sonnet-4-5': 7,
  'retab-small': 4,
  'retab-large': 2,
} as const;

export const ENDPOINT_WEIGHTS: Record<(typeof LEGACY_ENDPOINTS)[number], number> = {
  '/v1/documents/extract': 34,
  '/v1/documents/parse': 14,
  '/v1/documents/split': 8,
  '/v1/documents/classify': 10,
  '/v1/schemas/generate': 5,
  '/v1/edit/agent/fill': 4,
  '/v1/edit/templates/fill': 4,
  '/v1/edit/templates/generate': 2,
  '/v1/evals/extract/process': 4,
  '/v1/evals/split/process': 3,
  '/v1/evals/classify/process': 3,
  '/v1/evals/extract/extract': 5,
  '/v1/evals/extract/split': 4,
};

/** Endpoints that usually take several documents at once (`documents[]`). */
export const MULTI_DOCUMENT_ENDPOINTS: ReadonlySet<string> = new Set([
  '/v1/documents/split',
  '/v1/documents/classify',
  '/v1/evals/split/process',
  '/v1/evals/classify/process',
  '/v1/evals/extract/split',
]);

/**
 * Which endpoint family generated jobs carry: `legacy` (`/v1/documents/extract`, …, the default) or
 * `current` (`/v1/extractions`, …: Retab's names since May 2026).
 */
export type EndpointNames = 'legacy' | 'current';

/**
 * A current-family name for each legacy pick, so `current` keeps the same mix (and the same random stream):
 * renamed endpoints map to their new name, the rest to a current endpoint of the same kind.
 */
const CURRENT_NAME: Record<(typeof LEGACY_ENDPOINTS)[number], (typeof CURRENT_ENDPOINTS)[number]> = {
  '/v1/documents/extract': '/v1/extractions',
  '/v1/documents/parse': '/v1/parses',
  '/v1/documents/split': '/v1/splits',
  '/v1/documents/classify': '/v1/classifications',
  '/v1/schemas/generate': '/v1/schemas/generate',
  '/v1/edit/agent/fill': '/v1/edits',
  '/v1/edit/templates/fill': '/v1/edits',
  '/v1/edit/templates/generate': '/v1/edits/templates/generate',
  '/v1/evals/extract/process': '/v1/evals/extract/process',
  '/v1/evals/split/process': '/v1/partitions',
  '/v1/evals/classify/process': '/v1/files/analyze',
  '/v1/evals/extract/extract': '/v1/evals/extract/extract',
  '/v1/evals/extract/split': '/v1/evals/extract/process',
};

export const CUSTOMERS = [
  'acme',
  'globex',
  'initech',
  'umbrella',
  'hooli',
  'stark-industries',
  'wayne-enterprises',
  'wonka',
  'tyrell',
  'cyberdyne',
  'soylent',
  'massive-dynamic',
  'vandelay',
  'oceanic',
  'pied-piper',
  'aperture',
] as const;

const FILE_STEMS = [
  'invoice',
  'receipt',
  'bank_statement',
  'contract',
  'purchase_order',
  'bill_of_lading',
  'payslip',
  'id_card',
  'passport',
  'claim_form',
  'medical_report',
  'tax_return',
  'delivery_note',
  'quote',
  'resume',
  'insurance_policy',
  'utility_bill',
  'customs_declaration',
  'Scan',
  'IMG',
] as const;

const POPULAR_TYPES = {
  pdf: 50,
  png: 8,
  jpg: 8,
  jpeg: 3,
  docx: 6,
  xlsx: 5,
  eml: 4,
  msg: 2,
  txt: 3,
  csv: 3,
  tiff: 2,
};

export const FAILURE_ERRORS: readonly JobError[] = [
  {
    code: 'document_unreadable',
    message: 'The document could not be read: it is empty, encrypted or corrupt.',
  },
  { code: 'model_timeout', message: 'The model did not answer within 600 seconds.' },
  {
    code: 'invalid_json_schema',
    message: 'json_schema is not a valid JSON Schema: properties must be an object.',
  },
  { code: 'file_too_large', message: 'The document exceeds the 50 MB limit.' },
  { code: 'unsupported_file_type', message: 'This file type is not supported by this endpoint.' },
  { code: 'provider_error', message: 'The model provider returned an error (502).' },
  { code: 'internal_error', message: 'Internal error while processing the job.' },
  { code: 'context_length_exceeded', message: 'The document is too long for the selected model.' },
];

/** Seed-specific ids and vocabularies. */
export class Catalog {
  readonly organizationId: string;
  readonly projects: string[];
  /** Each workflow with its node ids. */
  readonly workflows: { id: string; nodes: string[] }[];

  constructor(
    seed: number,
    readonly endpointNames: EndpointNames = 'legacy',
  ) {
    const rng = new Random(seed ^ 0x5eed);
    this.organizationId = `org_${rng.urlSafe(21)}`;
    this.projects = Array.from({ length: 24 }, () => `proj_${rng.urlSafe(12)}`);
    this.workflows = Array.from({ length: 10 }, () => ({
      id: `wf_${rng.urlSafe(12)}`,
      nodes: Array.from({ length: rng.int(2, 6) }, () => `node_${rng.urlSafe(8)}`),
    }));
  }
}

/**
 * One endpoint from the mix, named in `names`' family, and whether its jobs usually take several documents
 * (decided on the pick, so both families draw the same random stream).
 */
export function pickEndpoint(
  rng: Random,
  names: EndpointNames = 'legacy',
): { endpoint: Endpoint; multiDocument: boolean } {
  const legacy = rng.weighted(ENDPOINT_WEIGHTS);
  return {
    endpoint: names === 'current' ? CURRENT_NAME[legacy] : legacy,
    multiDocument: MULTI_DOCUMENT_ENDPOINTS.has(legacy),
  };
}

export function pickModel(rng: Random): string {
  return rng.weighted(MODEL_WEIGHTS);
}

const UPPER = new Map<string, string>(DOCUMENT_TYPES.map((t) => [t, t.toUpperCase()]));
const LOWER = new Map<string, string>(
  DOCUMENT_TYPES.flatMap((t) => [[t, t] as const, [t.toUpperCase(), t] as const]),
);

/**
 * A filename extension: popular types most of the time, any accepted type otherwise (so every type occurs),
 * sometimes upper-cased. Always one of a fixed set of strings, so a million jobs share them.
 */
export function pickExtension(rng: Random): string {
  const t = rng.chance(0.25) ? rng.pick(DOCUMENT_TYPES) : rng.weighted(POPULAR_TYPES);
  return rng.chance(0.08) ? (UPPER.get(t) as string) : t;
}

/** The document type of an extension from `pickExtension`. */
export function extensionType(ext: string): string {
  return LOWER.get(ext) ?? ext.toLowerCase();
}

const dayCache = new Map<number, string>();
function isoDay(unixSeconds: number): string {
  const day = Math.floor(unixSeconds / 86_400);
  let s = dayCache.get(day);
  if (s === undefined) {
    s = new Date(day * 86_400_000).toISOString().slice(0, 10);
    dayCache.set(day, s);
  }
  return s;
}

/** A filename such as `invoice_2025_00412.pdf`, `Scan 2025-10-03 (2).PDF` or `IMG_4821.jpg`. */
export function makeFilename(rng: Random, createdAt: number, ext: string): string {
  const stem = rng.pick(FILE_STEMS);
  const day = isoDay(createdAt);
  if (stem === 'Scan') return `Scan ${day}${rng.chance(0.3) ? ` (${rng.int(1, 9)})` : ''}.${ext}`;
  if (stem === 'IMG') return `IMG_${rng.int(1000, 9999)}.${ext}`;
  return `${stem}_${day.slice(0, 4)}_${String(rng.int(1, 99999)).padStart(5, '0')}.${ext}`;
}

/**
 * The filenames of a generated job, rebuilt from its seed: storing a million of them would cost more than
 * regenerating the few that a filename filter scans.
 */
export function generatedFilenames(
  seed: number,
  createdAt: number,
  exts: string | readonly string[],
): string[] {
  const rng = new Random(mixSeed(seed, 0xf11e));
  if (typeof exts === 'string') return [makeFilename(rng, createdAt, exts)];
  return exts.map((ext) => makeFilename(rng, createdAt, ext));
}
