/** RAGFlow success envelope (get_result): `{code: 0, data}` with no `message` key; `data` omitted when undefined. */
export function ok(data?: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return data === undefined ? { code: 0, ...extra } : { code: 0, data, ...extra };
}

/** RAGFlow web-API envelope (get_json_result): `{code: 0, message: "success", data}`. */
export function okJson(data: unknown = true, message = 'success'): Record<string, unknown> {
  return { code: 0, message, data };
}
