/**
 * Request and response payloads of generated jobs, rebuilt from the job's seed on every call: nothing is
 * stored, yet `include_request` returns the same bytes each time. Requests are ~1–3 KB, like real ones.
 */
import type { JobResponse } from '../retab/index.ts';
import { Random } from './random.ts';
import type { SimJob } from './simJob.ts';

const FIELDS = [
  'invoice_number',
  'invoice_date',
  'due_date',
  'vendor_name',
  'vendor_address',
  'vendor_vat_id',
  'customer_name',
  'customer_address',
  'currency',
  'subtotal',
  'tax_amount',
  'total_amount',
  'payment_terms',
  'iban',
  'purchase_order_number',
  'shipment_date',
  'carrier',
  'tracking_number',
  'policy_number',
  'claimant_name',
  'date_of_birth',
  'document_number',
  'expiry_date',
  'employer',
  'gross_salary',
  'net_salary',
] as const;

const GUIDANCE = [
  'These documents come from our accounts-payable inbox. Most are supplier invoices in English, French or ' +
    'German; some are scanned at an angle or have handwritten annotations. Prefer printed values over ' +
    'handwriting, keep the original language of free-text fields and report amounts without thousands separators.',
  'Scanned claim packets from field agents. A packet usually starts with a cover sheet, then the claim form, ' +
    'then photos and receipts. Page order can be wrong. Treat stamps and signatures as part of the page they ' +
    'appear on, and never merge two claimants into one document even if their names are similar.',
  'Onboarding files uploaded by new employees: identity documents, proof of address, bank details and signed ' +
    'contracts. Some photos are taken with a phone under poor lighting. Keep identifiers exactly as printed, ' +
    'including leading zeros, and do not infer missing dates from other documents in the batch.',
] as const;

const CATEGORIES = ['invoice', 'receipt', 'contract', 'id_document', 'bank_statement', 'other'] as const;

function jsonSchema(rng: Random): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const n = rng.int(6, 18);
  for (let i = 0; i < n; i++) {
    const name = rng.pick(FIELDS);
    const prop: Record<string, unknown> = {
      type: rng.chance(0.7) ? 'string' : 'number',
      description: `The ${name.replaceAll('_', ' ')} as printed on the document; null when absent.`,
    };
    if (rng.chance(0.3))
      prop['X-ReasoningPrompt'] = `Look for the ${name.replaceAll('_', ' ')} near the header.`;
    properties[name] = prop;
  }
  if (rng.chance(0.5)) {
    properties.line_items = {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          description: { type: 'string', description: 'Line item description' },
          quantity: { type: 'number', description: 'Quantity' },
          unit_price: { type: 'number', description: 'Unit price, without tax' },
          amount: { type: 'number', description: 'Line total' },
        },
        required: ['description', 'amount'],
      },
    };
  }
  return { type: 'object', title: 'DocumentData', properties, required: Object.keys(properties).slice(0, 3) };
}

function documentRef(rng: Random, filename: string): { filename: string; url: string } {
  return {
    filename,
    url: `https://storage.retab.com/files/file_${rng.urlSafe(16)}/${encodeURIComponent(filename)}`,
  };
}

function endpointFields(rng: Random, endpoint: string): Record<string, unknown> {
  switch (endpoint) {
    case '/v1/documents/extract':
    case '/v1/evals/extract/extract':
    case '/v1/evals/extract/process':
      return {
        json_schema: jsonSchema(rng),
        temperature: rng.pick([0, 0, 0.2, 0.5]),
        n_consensus: rng.pick([1, 1, 3, 5]),
        modality: rng.pick(['native', 'image', 'text']),
        image_resolution_dpi: rng.pick([96, 150, 192]),
        reasoning_effort: rng.pick(['minimal', 'low', 'medium']),
      };
    case '/v1/documents/split':
    case '/v1/evals/split/process':
    case '/v1/evals/extract/split':
      return {
        subdocuments: CATEGORIES.slice(0, rng.int(2, 6)).map((name) => ({
          name,
          description: `Pages that belong to a ${name.replaceAll('_', ' ')}, from its first page to its last.`,
        })),
        context: 'Batch of scanned documents received by mail; one file may contain several documents.',
      };
    case '/v1/documents/classify':
    case '/v1/evals/classify/process':
      return {
        categories: CATEGORIES.map((name) => ({
          name,
          description: `A ${name.replaceAll('_', ' ')}: choose it when the document's main purpose matches.`,
        })),
        first_n_pages: rng.pick([1, 2, 3]),
      };
    case '/v1/documents/parse':
      return {
        table_parsing_format: rng.pick(['html', 'markdown', 'json']),
        image_resolution_dpi: rng.pick([96, 150, 192]),
        browser_canvas: rng.pick(['A4', 'A3', 'letter']),
        instructions:
          'Keep the reading order; transcribe tables cell by cell; ignore page headers and footers.',
      };
    default:
      return {
        instructions:
          'Fill the form from the attached documents. Use the exact spelling of names and identifiers, ' +
          'format dates as YYYY-MM-DD, leave a field empty rather than guessing, and keep currency codes.',
        template_id: `tpl_${rng.urlSafe(12)}`,
        json_schema: jsonSchema(rng),
      };
  }
}

/** The request of a generated job: its filenames, model and project plus endpoint-specific options. */
export function buildRequest(rec: SimJob): Record<string, unknown> {
  const rng = new Random(rec.seed);
  const request: Record<string, unknown> = {};
  if (rec.filenames.length === 1 && rng.chance(0.9)) {
    request.document = documentRef(rng, rec.filenames[0] as string);
  } else {
    request.documents = rec.filenames.map((f) => documentRef(rng, f));
  }
  if (rec.model !== null) request.model = rec.model;
  if (rec.projectId !== null) request.project_id = rec.projectId;
  Object.assign(request, endpointFields(rng, rec.endpoint));
  request.idempotency_key = `idem_${rng.urlSafe(24)}`;
  request.stream = false;
  request.store = true;
  if (rng.chance(0.3)) request.webhook_url = `https://hooks.example.com/retab/${rng.urlSafe(16)}`;
  if (!('json_schema' in request))
    request.additional_messages = [{ role: 'user', content: rng.pick(GUIDANCE) }];
  return request;
}

/** The response of a completed job (null for any other status). */
export function buildResponse(rec: SimJob): JobResponse | null {
  if (rec.status !== 'completed') return null;
  const rng = new Random(rec.seed ^ 0x7e5b0d1e);
  const usage = {
    prompt_tokens: rng.int(800, 40_000),
    completion_tokens: rng.int(50, 4_000),
    page_count: rng.int(1, 30),
  };
  let body: Record<string, unknown>;
  if (rec.endpoint.includes('classify')) {
    body = { classification: { category: rng.pick(CATEGORIES), confidence: rng.int(55, 99) / 100 }, usage };
  } else if (rec.endpoint.includes('split')) {
    let page = 1;
    const splits = CATEGORIES.slice(0, rng.int(1, 4)).map((name) => {
      const pages = Array.from({ length: rng.int(1, 4) }, () => page++);
      return { name, pages };
    });
    body = { splits, usage };
  } else if (rec.endpoint === '/v1/documents/parse') {
    body = {
      pages: Array.from({ length: rng.int(1, 3) }, (_, i) => ({
        page: i + 1,
        text: `# Page ${i + 1}\n\n| item | qty | amount |\n|---|---|---|\n| services | ${rng.int(1, 9)} | ${rng.int(10, 9999)}.00 |`,
      })),
      usage,
    };
  } else {
    const data: Record<string, unknown> = {};
    for (let i = rng.int(4, 10); i > 0; i--)
      data[rng.pick(FIELDS)] = rng.chance(0.5) ? rng.urlSafe(8) : rng.int(1, 99999);
    body = {
      id: `chatcmpl_${rng.urlSafe(20)}`,
      object: 'chat.completion',
      model: rec.model,
      choices: [
        { index: 0, message: { role: 'assistant', content: JSON.stringify(data) }, finish_reason: 'stop' },
      ],
      likelihoods: Object.fromEntries(Object.keys(data).map((k) => [k, rng.int(60, 100) / 100])),
      usage,
    };
  }
  return { status_code: 200, body };
}
