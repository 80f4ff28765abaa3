/*
 * audit.ts — an audit log entry as GET /v1/admin/audit answers it (docs/openapi.yaml
 * AuditEntry): one type for the Audit log page and the record pages that show a
 * record's own trail (a withdrawal's, a payment's).
 */
export interface AuditEntry {
  seq: number;
  id: string;
  at: string;
  actor_kind: string;
  actor_id: string;
  actor_email: string;
  role: string;
  brand: string | null;
  action: string;
  target_kind: string;
  target_id: string;
  before: unknown;
  after: unknown;
  reason: string;
  trace_id: string;
  ip: string;
  hash: string;
}
