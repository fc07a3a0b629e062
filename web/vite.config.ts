import { defineConfig } from 'vitest/config';

declare const process: { env: Record<string, string | undefined> };

// One script and one stylesheet with fixed names: orbwatch embeds them (src/server/web_ui.cc)
// and `analyze --report` inlines them into a single HTML file.
export default defineConfig({
  base: '/',
  build: {
    target: 'es2020',
    assetsDir: '',
    modulePreload: false,
    cssCodeSplit: false,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      output: {
        entryFileNames: 'app.js',
        assetFileNames: 'app[extname]',
        inlineDynamicImports: true,
      },
    },
  },
  server: {
    // `ORBWATCH=http://127.0.0.1:8080 npm run dev`: the dashboard from source against a daemon.
    proxy: { '/api': process.env.ORBWATCH ?? 'http://127.0.0.1:8080' },
  },
  test: { include: ['test/**/*.test.ts'], environment: 'node' },
});
