/** A thin RAGFlow HTTP client for tests: the calls and bodies a real client sends. */
export class RagflowHttp {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  async req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.apiKey}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  }

  get = (p: string) => this.req('GET', p);
  post = (p: string, b?: unknown) => this.req('POST', p, b ?? {});
  put = (p: string, b?: unknown) => this.req('PUT', p, b ?? {});
  del = (p: string, b?: unknown) => this.req('DELETE', p, b ?? {});

  async upload(datasetId: string, files: { name: string; content: Buffer | string }[]) {
    const form = new FormData();
    for (const f of files) form.append('file', new Blob([typeof f.content === 'string' ? Buffer.from(f.content) : f.content]), f.name);
    const res = await fetch(`${this.baseUrl}/api/v1/datasets/${datasetId}/documents`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.apiKey}` },
      body: form,
    });
    return { status: res.status, json: (await res.json()) as any };
  }

  /** Polls list-documents like the SDK's parse_documents until every document is DONE/FAIL/CANCEL. */
  async waitParsed(datasetId: string, ids: string[], timeoutMs = 60_000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const docs = [];
      for (const id of ids) {
        const r = await this.get(`/api/v1/datasets/${datasetId}/documents?id=${id}`);
        docs.push(r.json.data.docs[0]);
      }
      if (docs.every((d) => ['DONE', 'FAIL', 'CANCEL'].includes(d.run))) return docs;
      if (Date.now() > deadline) throw new Error(`documents not parsed in time: ${JSON.stringify(docs.map((d) => [d.name, d.run, d.progress, d.progress_msg]))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
