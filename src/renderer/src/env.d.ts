/// <reference types="vite/client" />
import type { PaddockBridge } from '@shared/bridge'

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

declare global {
  interface Window {
    /** Present only inside the Electron app (exposed by the preload). */
    paddock?: PaddockBridge
  }
}
