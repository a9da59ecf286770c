#!/usr/bin/env node
// Runs the CLI straight from the TypeScript sources (no build step) through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
