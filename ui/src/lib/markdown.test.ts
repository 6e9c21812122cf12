import { describe, expect, it } from 'vitest';
import { renderMarkdown, splitBlocks } from './markdown';

describe('splitBlocks', () => {
  it('splits paragraphs but keeps fenced code with blank lines whole', () => {
    const text = 'Intro.\n\n```python\ndef f():\n\n    return 1\n```\n\nAfter.';
    expect(splitBlocks(text)).toEqual(['Intro.', '```python\ndef f():\n\n    return 1\n```', 'After.']);
  });

  it('keeps loose lists and indented continuations in one block', () => {
    const text = '1. one\n\n2. two\n\n   more about two\n\nEnd.';
    expect(splitBlocks(text)).toEqual(['1. one\n\n2. two\n\n   more about two', 'End.']);
  });

  it('an unclosed fence while streaming holds the rest of the text', () => {
    expect(splitBlocks('a\n\n```js\nlet x = 1;\n\nlet y')).toEqual(['a', '```js\nlet x = 1;\n\nlet y']);
  });

  it('rendering block by block equals rendering the whole', () => {
    const text = '# Title\n\nSome *text*.\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |';
    const html = renderMarkdown(text);
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<em>text</em>');
    expect(html).toContain('<table>');
  });
});

describe('renderMarkdown', () => {
  it('shows raw HTML from a model as text and runs nothing', () => {
    const html = renderMarkdown('Look: <img src=x onerror="alert(1)"> and <script>alert(2)</script>\n\n[link](javascript:alert(3))');
    const div = document.createElement('div');
    div.innerHTML = html;
    expect(div.querySelector('img, script')).toBeNull();
    expect(div.textContent).toContain('<script>alert(2)</script>');
    expect(div.querySelector('a')?.getAttribute('href') ?? '').not.toContain('javascript:');
  });

  it('highlights known languages and gives every code block a copy button', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('```rust\nfn main() { let x = "<b>"; }\n```');
    expect(div.querySelector('.code-head span')?.textContent).toBe('rust');
    expect(div.querySelector('[data-copy-code]')).not.toBeNull();
    expect(div.querySelector('code .hljs-keyword')?.textContent).toBe('fn');
    expect(div.querySelector('code')?.textContent).toBe('fn main() { let x = "<b>"; }');
    expect(div.querySelector('code b')).toBeNull();
  });

  it('never loads remote images', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('![cat](https://example.com/cat.png)');
    expect(div.querySelector('img')).toBeNull();
    expect(div.textContent).toContain('[image: cat]');
  });

  it('renders LaTeX with KaTeX, keeps money as text, and styles nothing outside math', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('Euler: $e^{i\\pi} + 1 = 0$, costs $5 and $10.\n\n$$\\frac{a}{b}$$\n\n<span style="color:red">x</span>');
    expect(div.querySelectorAll('.katex').length).toBe(2);
    expect(div.querySelector('.math-block .katex-display')).not.toBeNull();
    expect(div.textContent).toContain('costs $5 and $10.');
    expect(div.querySelector('[style*="color"]')).toBeNull();
    expect(div.querySelector('.katex [style*="height"]')).not.toBeNull();
    const root = document.createElement('div');
    root.innerHTML = renderMarkdown('$$\\sqrt{2}$$');
    expect(root.querySelector('.katex svg path')).not.toBeNull();
    const bad = document.createElement('div');
    bad.innerHTML = renderMarkdown('$\\frac{$');
    expect(bad.textContent).toContain('frac');
  });
});
