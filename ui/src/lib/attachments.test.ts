import { describe, expect, it } from 'vitest';
import { Attachable, attachable } from './attachments';

// `attachable` follows the rules generated from Rust (bindings.ts): these hold the page to them.
describe('attachable files', () => {
  it('knows images by type and documents by type or name, as the app reads them', () => {
    expect(['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/bmp'].every((m) => attachable.isImageType(m))).toBe(true);
    expect(attachable.isImageType('image/svg+xml')).toBe(false);
    expect(attachable.documentKind('report.PDF', '')).toBe('PDF');
    expect(attachable.documentKind('letter.docx', '')).toBe('Word');
    expect(attachable.documentKind('notes.md', 'text/plain')).toBe('Markdown');
    expect(attachable.documentKind('data.csv', 'text/csv')).toBe('Text');
    expect(attachable.documentKind('old.doc', 'application/msword')).toBeNull();
    expect(attachable.documentKind('model.gguf', '')).toBeNull();
  });

  it('offers every kind in the file picker, and refuses with the words the app uses', () => {
    const accept = attachable.accept.split(',');
    for (const entry of ['image/png', 'image/jpeg', '.pdf', '.docx', '.md', '.txt']) expect(accept).toContain(entry);
    expect(attachable.maxBytes).toBe(20 * 1024 * 1024);
    expect(attachable.refusal('model.gguf', 'kind')).toBe(
      'model.gguf: only images (PNG, JPEG, WebP, GIF, BMP) and documents (PDF, Word, Markdown, Text) can be attached',
    );
    expect(attachable.refusal('big.pdf', 'size')).toBe('big.pdf: an attachment may be at most 20 MB');
  });

  it('follows whatever rules it is given', () => {
    const rules = new Attachable({ max_bytes: 1024 * 1024, kinds: [{ label: 'PNG', image: true, mimes: ['image/png'], extensions: ['png'] }] });
    expect([rules.isImageType('image/jpeg'), rules.documentKind('a.pdf', ''), rules.accept]).toEqual([false, null, 'image/png']);
    expect(rules.refusal('a.pdf', 'size')).toBe('a.pdf: an attachment may be at most 1 MB');
  });
});
