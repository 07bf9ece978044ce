import { createHash } from "node:crypto";
import { normaliseEventType } from "../../services/inputs.js";
import { CsvFormatError, type CsvKind } from "./types.js";

/** Column mapping: header names to input fields, rows to input items, errors back to columns. */

/** Columns of the lead input, by their case- and separator-free spelling. */
export const LEAD_COLUMNS: Record<string, string> = {
  email: "email",
  emailaddress: "email",
  externalid: "externalId",
  firstname: "firstName",
  lastname: "lastName",
  title: "title",
  jobtitle: "title",
  company: "company",
  companyname: "company",
  industry: "industry",
  employees: "employees",
  employeecount: "employees",
  numberofemployees: "employees",
  annualrevenue: "annualRevenue",
  revenue: "annualRevenue",
  country: "country",
  // HubSpot's export heading.
  countryregion: "country",
  source: "source",
  leadsource: "source",
  originalsource: "source",
  owner: "owner",
  attributes: "attributes",
};

export const EVENT_COLUMNS: Record<string, string> = {
  id: "id",
  eventid: "id",
  email: "email",
  leadid: "leadId",
  externalid: "externalId",
  type: "type",
  event: "type",
  eventtype: "type",
  occurredat: "occurredAt",
  timestamp: "occurredAt",
  properties: "properties",
};

/** Columns of an outcome row, as CRMs export closed deals. */
export const OUTCOME_COLUMNS: Record<string, string> = {
  lead: "lead",
  email: "lead",
  outcome: "outcome",
  result: "outcome",
  reason: "reason",
  lostreason: "reason",
  note: "note",
  notes: "note",
  at: "at",
  date: "at",
  closedate: "at",
  closedat: "at",
};

export const squash = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Where one column's value goes in the input item. */
export type Target =
  | { to: "field"; name: string }
  | { to: "nested"; bag: "attributes" | "properties"; key: string }
  /** A JSON object merged into the bag. */
  | { to: "json"; bag: "attributes" | "properties" };

export interface Column {
  header: string;
  target: Target;
}

export function targetFor(kind: CsvKind, header: string): Target {
  if (kind === "outcomes") {
    const name = OUTCOME_COLUMNS[squash(header)];
    // An outcome has no bag to keep extra columns in: say which columns there are.
    if (!name) {
      throw new CsvFormatError(
        `column "${header}" is not an outcome column; use lead (or email), outcome, reason, note, at`,
      );
    }
    return { to: "field", name };
  }
  const bag = kind === "leads" ? "attributes" : "properties";
  const dotted = /^(attributes|properties)\.(.+)$/i.exec(header);
  if (dotted?.[1] && dotted[2]) {
    if (dotted[1].toLowerCase() !== bag) {
      throw new CsvFormatError(
        `column "${header}": ${kind} rows have ${bag}, not ${dotted[1].toLowerCase()}; rename it ${bag}.${dotted[2]}`,
      );
    }
    return { to: "nested", bag, key: dotted[2].trim() };
  }
  const known = (kind === "leads" ? LEAD_COLUMNS : EVENT_COLUMNS)[squash(header)];
  if (known === bag) return { to: "json", bag };
  if (known) return { to: "field", name: known };
  // Anything else is kept, under a key a model rule can name (attributes.<key>).
  return { to: "nested", bag, key: normaliseEventType(header) };
}

export function mapHeader(kind: CsvKind, headers: string[]): Column[] {
  const columns = headers.map((raw, i) => {
    const header = raw.trim();
    if (header === "") throw new CsvFormatError(`column ${i + 1} of the header row has no name`);
    return { header, target: targetFor(kind, header) };
  });
  const seen = new Map<string, string>();
  for (const c of columns) {
    const key =
      c.target.to === "field"
        ? c.target.name
        : c.target.to === "nested"
          ? `${c.target.bag}.${c.target.key}`
          : `${c.target.bag} (JSON)`;
    const other = seen.get(key);
    if (other) {
      throw new CsvFormatError(
        `columns "${other}" and "${c.header}" both fill ${key}; keep one of them`,
      );
    }
    seen.set(key, c.header);
  }
  const has = (name: string) => seen.has(name);
  if (kind === "leads" && !has("email") && !has("externalId")) {
    throw new CsvFormatError(
      `the header row needs an email or external_id column to identify leads (found: ${headers.join(", ")})`,
    );
  }
  if (kind === "outcomes") {
    const missing = ["lead", "outcome"].filter((n) => !has(n));
    if (missing.length > 0) {
      throw new CsvFormatError(
        `the header row needs ${missing.map((m) => (m === "lead" ? "a lead (or email)" : "an outcome")).join(" and ")} column for outcomes (found: ${headers.join(", ")})`,
      );
    }
  }
  if (kind === "events") {
    const missing = ["type", "occurredAt"].filter((n) => !has(n));
    if (missing.length > 0) {
      throw new CsvFormatError(
        `the header row needs ${missing.map((m) => (m === "type" ? "a type" : "an occurred_at")).join(" and ")} column for events (found: ${headers.join(", ")})`,
      );
    }
    if (!has("email") && !has("leadId") && !has("externalId")) {
      throw new CsvFormatError(
        `the header row needs an email, lead_id or external_id column to say whose events these are (found: ${headers.join(", ")})`,
      );
    }
  }
  return columns;
}

/** Numbers as spreadsheets write them: "1,200" and "1 200" are 1200. */
export function plainNumber(v: string): string {
  return /^-?\d{1,3}([, ]\d{3})+(\.\d+)?$/.test(v) ? v.replace(/[, ]/g, "") : v;
}

export const NUMERIC_FIELDS = new Set(["employees", "annualRevenue"]);

/** A plain decimal: no leading zeros (zip codes, account numbers), no exponent, no sign but minus. */
const PLAIN_DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
/** A decimal with thousands commas, as CRMs and spreadsheets export them: "1,234.5". */
const GROUPED_DECIMAL = /^-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$/;
/** Digits a double holds exactly: longer digit strings are ids, kept as text. */
const MAX_NUMBER_DIGITS = 15;

/**
 * The value an unknown lead column stores in `attributes`: a number when the cell is written as
 * one ("12", "-3", "12.5", "1,234"), so range rules and learned quantile rules can use it; any
 * other text as is ("02134" and "+1 415 555 0100" stay text: a leading zero or sign makes an id).
 */
export function attributeValue(cell: string): string | number {
  if (!PLAIN_DECIMAL.test(cell) && !GROUPED_DECIMAL.test(cell)) return cell;
  const digits = cell.replace(/[^0-9]/g, "").replace(/^0+/, "");
  if (digits.length > MAX_NUMBER_DIGITS) return cell;
  const n = Number(cell.replace(/,/g, ""));
  return Number.isFinite(n) ? n : cell;
}

/**
 * Builds the input item of one row; an empty cell leaves the field out (it does not clear it).
 * Lead attributes are typed (see attributeValue); event properties stay text, because an event
 * row without an id is named by a hash of its content and a file imported again must hash alike.
 */
export function buildItem(
  kind: CsvKind,
  columns: Column[],
  cells: string[],
): { item: Record<string, unknown> } | { error: { field: string; reason: string } } {
  const item: Record<string, unknown> = {};
  const bagName = kind === "leads" ? "attributes" : "properties";
  const bag: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as Column;
    const value = (cells[i] ?? "").trim();
    if (value === "") continue;
    const t = column.target;
    if (t.to === "field") item[t.name] = NUMERIC_FIELDS.has(t.name) ? plainNumber(value) : value;
    else if (t.to === "nested") bag[t.key] = kind === "leads" ? attributeValue(value) : value;
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return {
          error: { field: column.header, reason: 'must be a JSON object such as {"plan":"pro"}' },
        };
      }
      Object.assign(bag, parsed);
    }
  }
  if (Object.keys(bag).length > 0 || kind === "events") item[bagName] = bag;
  // Rows without an id get one from their content, so importing a file twice stores it once.
  if (kind === "events" && item.id === undefined) {
    const digest = createHash("sha256").update(JSON.stringify(item)).digest("hex").slice(0, 32);
    item.id = `csv-${digest}`;
  }
  return { item };
}

/** Maps an error path from the input schema back to the column the user can fix. */
export function columnOf(columns: Column[], field: string): string {
  for (const c of columns) {
    const t = c.target;
    if (t.to === "field" && (field === t.name || field.startsWith(`${t.name}.`))) return c.header;
    if (t.to === "nested" && field === `${t.bag}.${t.key}`) return c.header;
  }
  const json = columns.find((c) => c.target.to === "json");
  if (json && (field.startsWith("properties") || field.startsWith("attributes")))
    return json.header;
  return field;
}
