import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { api, logIn, logOut, onSessionChange, refreshSession } from "./api/client.js";
import type { User } from "./api/types.js";

/**
 * Who is signed in. Restored after a reload from the refresh cookie (one refresh, then
 * `GET /api/users/me`). A flag in localStorage remembers only *that* a session may exist (never a
 * token), so an anonymous visit sends no refresh that is bound to fail.
 */
interface Session {
  /** undefined while the session is being restored. */
  user: User | null | undefined;
  /** Set when the session ended by itself (refresh refused): "your session expired". */
  expired: boolean;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | undefined>(undefined);
const HINT = "blossom.signed-in";

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    let live = true;
    (async () => {
      let restored = false;
      try {
        restored = localStorage.getItem(HINT) === "1" && (await refreshSession());
      } catch {
        // The platform unreachable: shown signed out for now, the hint kept for the next load.
        if (live) setUser(null);
        return;
      }
      if (!restored) {
        localStorage.removeItem(HINT);
        if (live) setUser(null);
        return;
      }
      try {
        const me = await api<User>("/api/users/me");
        if (live) setUser(me);
      } catch {
        if (live) setUser(null);
      }
    })();
    const off = onSessionChange((signedIn) => {
      if (signedIn) return;
      localStorage.removeItem(HINT);
      setUser(null);
      setExpired(true);
    });
    return () => {
      live = false;
      off();
    };
  }, []);

  const signIn = useCallback(async (email: string, password: string) => {
    await logIn(email, password);
    const me = await api<User>("/api/users/me");
    localStorage.setItem(HINT, "1");
    setExpired(false);
    setUser(me);
  }, []);

  const signOut = useCallback(async () => {
    await logOut();
    localStorage.removeItem(HINT);
    setUser(null);
  }, []);

  const value = useMemo(() => ({ user, expired, signIn, signOut }), [user, expired, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
