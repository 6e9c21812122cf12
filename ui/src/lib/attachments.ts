// What the page knows of attachable files: which are images, which documents, and sizes shown.

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/bmp'];

export const isImageType = (mime: string) => IMAGE_TYPES.includes(mime);

export type DocumentKind = 'PDF' | 'Word' | 'Markdown' | 'Text';

/** The kind of document a file is, by its name or type (as the app reads them); `null` when it
 *  is not one. */
export function documentKind(name: string, mime: string): DocumentKind | null {
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  if (mime === 'application/pdf' || ext === 'pdf') return 'PDF';
  if (mime === 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' || ext === 'docx') return 'Word';
  if (mime === 'text/markdown' || mime === 'text/x-markdown' || ext === 'md' || ext === 'markdown') return 'Markdown';
  if (mime === 'text/plain' || ['txt', 'text', 'log', 'csv'].includes(ext)) return 'Text';
  return null;
}
