package io.sluice.node.provider.gemini;

import com.google.auth.oauth2.AccessToken;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Vertex deployment's OAuth access token, kept fresh off the request path. A background tick
 * calls {@link #refreshIfDue()}, which fetches a new token once the cached one is within
 * {@code margin} of its expiry (Google's tokens last an hour); the request path reads the cached
 * token with {@link #current()}. Only when no usable token is cached (the node just started, or
 * every refresh since the token expired failed) does {@link #current()} fetch one itself, so a
 * request is never sent with an expired token.
 *
 * <p>A failed refresh keeps the cached token, which is still valid until its expiry, and the next
 * tick tries again. Fetches never run at once: a request that finds no token waits for a fetch
 * already under way rather than starting a second one.
 */
final class AccessTokens {
  private static final Logger LOG = LoggerFactory.getLogger(AccessTokens.class);

  /** Fetches a new token from Google (a network call); Google's credentials' refreshAccessToken. */
  interface Fetch {
    AccessToken fetch() throws IOException;
  }

  private final String deployment;
  private final Fetch fetch;
  private final InstantSource clock;
  private final Duration margin;
  private volatile AccessToken token;

  AccessTokens(String deployment, Fetch fetch, InstantSource clock, Duration margin) {
    this.deployment = deployment;
    this.fetch = fetch;
    this.clock = clock;
    this.margin = margin;
  }

  /**
   * The token to send now: the cached one while it has not expired, else a fresh one fetched here.
   *
   * @throws IOException when no valid token is cached and none could be fetched
   */
  String current() throws IOException {
    AccessToken t = token;
    if (usable(t, Duration.ZERO)) {
      return t.getTokenValue();
    }
    synchronized (this) {
      t = token;
      if (!usable(t, Duration.ZERO)) {
        t = fetchNow();
      }
      return t.getTokenValue();
    }
  }

  /** The background tick: a new token when the cached one is missing or within the margin of expiry. */
  void refreshIfDue() {
    if (usable(token, margin)) {
      return;
    }
    synchronized (this) {
      if (usable(token, margin)) {
        return;
      }
      try {
        fetchNow();
      } catch (IOException | RuntimeException e) {
        LOG.warn("gemini deployment {}: could not refresh its Vertex access token ({}); retrying on the next tick",
            deployment, e.toString());
      }
    }
  }

  private AccessToken fetchNow() throws IOException {
    AccessToken fresh = fetch.fetch();
    if (fresh == null || fresh.getTokenValue() == null) {
      throw new IOException("Google returned no access token");
    }
    token = fresh;
    return fresh;
  }

  /** Valid for at least {@code ahead} more; a token without an expiry time is taken as valid. */
  private boolean usable(AccessToken t, Duration ahead) {
    if (t == null) {
      return false;
    }
    if (t.getExpirationTime() == null) {
      return true;
    }
    Instant expiry = t.getExpirationTime().toInstant();
    return clock.instant().plus(ahead).isBefore(expiry);
  }
}
