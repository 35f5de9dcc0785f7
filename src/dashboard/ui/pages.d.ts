/** The module scripts/build-dashboard.mjs makes of every file under ui/pages (their `page` exports). */
declare module 'shoal-dashboard:pages' {
  import type { PageEntry } from './page.js';
  export const PAGES: PageEntry[];
}
