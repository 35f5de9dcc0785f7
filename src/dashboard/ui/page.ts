/**
 * What a page file exports (`export const page: PageEntry`). scripts/build-dashboard.mjs gathers
 * every file under ui/pages into the module `shoal-dashboard:pages`, so adding a page is its file
 * alone: the server answers every page path with the app shell, and the app picks the page here.
 */
import type { VNode } from 'preact';

export interface PageEntry {
  path: RegExp;
  /** In the navigation bar, when set, in `order`. */
  nav?: string;
  href?: string;
  /** Place in the navigation bar and among paths that could both match (lower first). @default 100 */
  order?: number;
  render(params: string[]): VNode<any>;
}
