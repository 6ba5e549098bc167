import { type FormEvent, useState } from "react";

/**
 * A form's text values, and `field(key, error)`: the props that tie one of them to its `Field` (the
 * value as typed, the change handler that writes it, and its error to show). Parsing and trimming
 * are the submit's job.
 */
export function useForm<T extends { [K in keyof T]: string }>(initial: T) {
  const [values, setValues] = useState<T>(initial);
  const field = (key: keyof T, error?: string) => ({
    value: values[key],
    onChange: (event: { target: { value: string } }) =>
      setValues((previous) => ({ ...previous, [key]: event.target.value })),
    error,
  });
  return { values, setValues, field };
}

/**
 * A form's submit handler around `action`: it stops the browser's own submit, is `busy` while the
 * action runs, and keeps the action's failure as `error` (cleared on the next submit) to show.
 */
export function useSubmit(action: () => Promise<void>) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return { submit, error, busy };
}
