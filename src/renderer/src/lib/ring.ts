// The ring lives in src/shared: the control server keeps its replay history in one too.
export { Ring } from '@shared/ring'
