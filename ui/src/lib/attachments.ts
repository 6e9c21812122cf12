// What the page knows of attachable files — which are images, which documents, the largest
// size — is Rust's: `ATTACHMENT_RULES`, generated into the bindings from the store's and the
// document reader's own tables (src-tauri/src/commands/conversations.rs).
import { ATTACHMENT_RULES, type AttachableKind, type AttachmentRules } from './bindings';

const extensionOf = (name: string) => (name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '');

/** What the rules say of files: which kind a file is, what a file picker offers, why one is
 *  refused. `rules` is Rust's; tests pass their own. */
export class Attachable {
  constructor(private rules: AttachmentRules = ATTACHMENT_RULES) {}

  isImageType(mime: string): boolean {
    return this.rules.kinds.some((k) => k.image && k.mimes.includes(mime));
  }

  /** The kind of document a file is, by its type or its name (a browser may give either); `null`
   *  when it is not one. */
  documentKind(name: string, mime: string): string | null {
    const ext = extensionOf(name);
    // In Rust's order: a Markdown file a browser calls text/plain is Markdown.
    return this.rules.kinds.find((k) => !k.image && (k.mimes.includes(mime) || k.extensions.includes(ext)))?.label ?? null;
  }

  /** The `accept` of a file input: images by type, documents by extension. */
  get accept(): string {
    return this.rules.kinds.flatMap((k: AttachableKind) => (k.image ? k.mimes : k.extensions.map((e) => `.${e}`))).join(',');
  }

  get maxBytes(): number {
    return this.rules.max_bytes;
  }

  /** Why `name` cannot be attached: a kind not taken, or too large a file (as the app says it). */
  refusal(name: string, reason: 'kind' | 'size'): string {
    if (reason === 'size') return `${name}: an attachment may be at most ${Math.floor(this.rules.max_bytes / 1024 / 1024)} MB`;
    const labels = (image: boolean) => this.rules.kinds.filter((k) => k.image === image).map((k) => k.label).join(', ');
    return `${name}: only images (${labels(true)}) and documents (${labels(false)}) can be attached`;
  }
}

export const attachable = new Attachable();
