/**
 * A question asked before a destructive action. It expires on its own after CONFIRM_MS
 * (the quick-stop confirmation used to stay armed for ever, one stray click from cutting
 * off every request) and can be cancelled.
 */
import { onBeforeUnmount, ref } from 'vue'

export const CONFIRM_MS = 5000

export interface Question {
  /** what the operator is asked */
  text: string
  /** the label of the button that goes ahead */
  yes: string
  go: () => void
}

export function useConfirm() {
  const asked = ref<Question | null>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  const clear = () => {
    if (timer) clearTimeout(timer)
    timer = null
  }
  function ask(q: Question): void {
    clear()
    asked.value = q
    timer = setTimeout(() => (asked.value = null), CONFIRM_MS)
  }
  function cancel(): void {
    clear()
    asked.value = null
  }
  function confirm(): void {
    const q = asked.value
    cancel()
    q?.go()
  }
  onBeforeUnmount(clear)
  return { asked, ask, cancel, confirm }
}
