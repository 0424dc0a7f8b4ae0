import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { defaultTransport } from './transport'
import { wire } from './stores/wire'
import './style.css'

const pinia = createPinia()
const app = createApp(App)
app.use(pinia)
wire(defaultTransport())
app.mount('#app')
