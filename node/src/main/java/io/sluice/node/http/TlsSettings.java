package io.sluice.node.http;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How the client port speaks TLS, read once from {@code sluice.http.tls} and {@code
 * sluice.http.plain-loopback-port}. Exists so that the server's identity comes from files (a PEM
 * chain and a PKCS#8 key, or a PKCS#12 keystore) that an operator can rotate without a restart.
 *
 * <p>Invariant: when {@code enabled}, exactly one of (cert and key) or keystore is set; {@link
 * #from} refuses anything else, so a half-configured node fails at start instead of serving plain
 * HTTP where HTTPS was asked for.
 *
 * @param cert PEM file with the server certificate first, then its intermediates
 * @param key PEM file with the certificate's private key, unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY})
 * @param keystore PKCS#12 file holding one private key entry and its chain
 * @param clientAuth whether clients must (NEED) or may (WANT) present a certificate
 * @param clientCa PEM file of the CAs that client certificates must chain to (with WANT or NEED)
 * @param reloadInterval how often the files are read again; a changed file set yields a new
 *     SSLContext for new connections. Zero turns reloading off.
 * @param plainLoopbackPort a second, plain-HTTP listener on 127.0.0.1 only (development, local
 *     health probes); empty for none
 */
public record TlsSettings(
    boolean enabled,
    Optional<Path> cert,
    Optional<Path> key,
    Optional<Path> keystore,
    char[] keystorePassword,
    ClientAuth clientAuth,
    Optional<Path> clientCa,
    List<String> protocols,
    List<String> cipherSuites,
    Duration reloadInterval,
    OptionalInt plainLoopbackPort) {

  /** Whether a client certificate is asked for, and whether it is required. */
  public enum ClientAuth { NONE, WANT, NEED }

  public static TlsSettings from(Config config) {
    Config http = config.getConfig("sluice.http");
    Config tls = http.getConfig("tls");
    TlsSettings s = new TlsSettings(
        tls.getBoolean("enabled"),
        path(tls, "cert"),
        path(tls, "key"),
        path(tls, "keystore"),
        tls.hasPath("keystore-password") ? tls.getString("keystore-password").toCharArray() : new char[0],
        ClientAuth.valueOf(tls.getString("client-auth").strip().toUpperCase(Locale.ROOT)),
        path(tls, "client-ca"),
        List.copyOf(tls.getStringList("protocols")),
        List.copyOf(tls.getStringList("cipher-suites")),
        tls.getDuration("reload-interval"),
        http.hasPath("plain-loopback-port") && !http.getString("plain-loopback-port").isBlank()
            ? OptionalInt.of(http.getInt("plain-loopback-port")) : OptionalInt.empty());
    if (s.enabled) {
      boolean pem = s.cert.isPresent() || s.key.isPresent();
      if (pem == s.keystore.isPresent()) {
        throw new IllegalArgumentException(
            "sluice.http.tls: set either cert and key (PEM) or keystore (PKCS12), not both and not neither");
      }
      if (pem && (s.cert.isEmpty() || s.key.isEmpty())) {
        throw new IllegalArgumentException("sluice.http.tls: cert and key go together");
      }
      if (s.clientAuth != ClientAuth.NONE && s.clientCa.isEmpty()) {
        throw new IllegalArgumentException("sluice.http.tls: client-auth " + s.clientAuth + " needs client-ca");
      }
    }
    return s;
  }

  private static Optional<Path> path(Config c, String name) {
    return c.hasPath(name) && !c.getString(name).isBlank() ? Optional.of(Path.of(c.getString(name))) : Optional.empty();
  }

  /** The files whose content makes up the server's identity; a change in any of them means reload. */
  List<Path> files() {
    List<Path> all = new java.util.ArrayList<>();
    cert.ifPresent(all::add);
    key.ifPresent(all::add);
    keystore.ifPresent(all::add);
    clientCa.ifPresent(all::add);
    return all;
  }

  @Override
  public String toString() {
    // Never print the keystore password.
    return "TlsSettings[enabled=" + enabled + ", cert=" + cert + ", key=" + key + ", keystore=" + keystore
        + ", clientAuth=" + clientAuth + ", reloadInterval=" + reloadInterval + ", plainLoopbackPort="
        + plainLoopbackPort + "]";
  }
}
