import { createDatasetSchema, deleteDatasetsSchema, listDatasetsQuerySchema } from '../../src/datasets/dataset.schemas.js';
import { validate } from '../../src/ragflow/validation.js';
import { strictJson } from '../../src/ragflow/body.js';
import { DomainError } from '@ragnest/contracts';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe(101);
    return (err as DomainError).message;
  }
  throw new Error('expected a validation error');
}

describe('pydantic-style validation messages (RAGFlow §1.7, §3.2)', () => {
  test('name length, type and whitespace', () => {
    expect(messageOf(() => validate(createDatasetSchema, { name: 'a'.repeat(129) }))).toContain(
      'Field: <name> - Message: <String should have at most 128 characters>',
    );
    expect(messageOf(() => validate(createDatasetSchema, { name: '   ' }))).toContain('String should have at least 1 character');
    expect(messageOf(() => validate(createDatasetSchema, { name: 3 }))).toContain('Input should be a valid string');
    expect(messageOf(() => validate(createDatasetSchema, {}))).toContain('Field: <name> - Message: <Field required>');
    expect(validate(createDatasetSchema, { name: '  kb  ' }).name).toBe('kb');
  });

  test('enums, extra fields and nested parser_config ranges', () => {
    expect(messageOf(() => validate(createDatasetSchema, { name: 'a', permission: 'x' }))).toContain("Input should be 'me' or 'team'");
    expect(messageOf(() => validate(createDatasetSchema, { name: 'a', chunk_method: 'x' }))).toContain(
      "Input should be 'naive', 'book', 'email', 'laws', 'manual', 'one', 'paper', 'picture', 'presentation', 'qa', 'table' or 'tag'",
    );
    expect(messageOf(() => validate(createDatasetSchema, { name: 'a', tenant_id: 'x' }))).toContain(
      "Field: <tenant_id> - Message: <Extra inputs are not permitted> - Value: <'x'>",
    );
    expect(messageOf(() => validate(createDatasetSchema, { name: 'a', parser_config: { chunk_token_num: 0 } }))).toContain(
      'Field: <parser_config.chunk_token_num> - Message: <Input should be greater than or equal to 1>',
    );
    expect(messageOf(() => validate(createDatasetSchema, { name: 'a', parser_config: { chunk_token_num: 4096 } }))).toContain(
      'Input should be less than or equal to 2048',
    );
  });

  test('the keys ragflow-sdk sends (nulls included, and 0.27\'s auto_metadata_config) are accepted', () => {
    const sdk024 = { name: 'kb_1', avatar: null, description: null, embedding_model: null, permission: 'me', chunk_method: 'naive', parser_config: null };
    expect(validate(createDatasetSchema, sdk024)).toMatchObject({ name: 'kb_1', parser_config: null });
    expect(validate(createDatasetSchema, { ...sdk024, auto_metadata_config: null }).auto_metadata_config).toBeNull();
    expect(validate(createDatasetSchema, { ...sdk024, auto_metadata_config: { enabled: true, fields: [] } }).auto_metadata_config).toEqual({ enabled: true, fields: [] });
  });

  test('avatar must be a jpeg/png data URI', () => {
    expect(messageOf(() => validate(createDatasetSchema, { name: 'a', avatar: 'abc' }))).toContain('Missing MIME prefix');
    expect(messageOf(() => validate(createDatasetSchema, { name: 'a', avatar: 'image/png;base64,xx' }))).toContain("Must start with 'data:'");
    expect(messageOf(() => validate(createDatasetSchema, { name: 'a', avatar: 'data:image/gif;base64,xx' }))).toContain('Unsupported MIME type');
    expect(validate(createDatasetSchema, { name: 'a', avatar: 'data:image/png;base64,xx' }).avatar).toBe('data:image/png;base64,xx');
  });

  test('list query: SDK booleans, bad numbers, unknown params', () => {
    expect(validate(listDatasetsQuerySchema, { desc: 'False', page: '2' })).toEqual({ desc: false, page: 2 });
    expect(messageOf(() => validate(listDatasetsQuerySchema, { desc: 'maybe' }))).toContain('Input should be a valid boolean, unable to interpret input');
    expect(messageOf(() => validate(listDatasetsQuerySchema, { page: '0' }))).toContain('Input should be greater than or equal to 1');
    expect(messageOf(() => validate(listDatasetsQuerySchema, { foo: '1' }))).toContain('Extra inputs are not permitted');
  });

  test('delete requires ids (null allowed)', () => {
    expect(messageOf(() => validate(deleteDatasetsSchema, {}))).toContain('Field: <ids> - Message: <Field required>');
    expect(validate(deleteDatasetsSchema, { ids: null })).toEqual({ ids: null });
  });

  test('strict JSON bodies', () => {
    const body = (contentType: string, value: unknown, present = true, malformed = false) => ({ contentType, value, present, malformed });
    expect(messageOf(() => strictJson(body('text/plain', {})))).toBe('Unsupported content type: Expected application/json, got text/plain');
    expect(messageOf(() => strictJson(body('application/json', undefined, true, true)))).toBe(
      'Malformed JSON syntax: Missing commas/brackets or invalid encoding',
    );
    expect(messageOf(() => strictJson(body('application/json', [1])))).toBe('Invalid request payload: expected object, got array');
    expect(strictJson(body('application/json', { a: 1 }))).toEqual({ a: 1 });
  });
});
