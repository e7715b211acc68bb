package io.sluice.node.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client port's TLS identity, loaded from the files of {@link TlsSettings} and loaded again
 * when their content changes. Exists so that a certificate can be rotated without a restart and
 * without dropping a connection.
 *
 * <p>Invariants: {@link #createEngine()} always uses the newest context that loaded completely
 * (the chain parsed, the key matches the leaf certificate), so a rotation that is caught half
 * written (new cert, old key) is refused and retried at the next check while the old identity
 * keeps serving. An engine, once created, belongs to its connection for the connection's life:
 * a reload changes only what new connections get, so in-flight requests and keep-alive
 * connections are never cut.
 */
public final class ServerTls {
  private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);
  private static final Pattern PEM = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

  /** One loaded identity and the digest of the files it came from. */
  private record Loaded(SSLContext context, String[] protocols, String[] suites, byte[] digest, X509Certificate leaf) {}

  private final TlsSettings settings;
  private final AtomicReference<Loaded> current = new AtomicReference<>();

  private ServerTls(TlsSettings settings, Loaded first) {
    this.settings = settings;
    this.current.set(first);
  }

  /** Loads the identity now; fails (and so the node's start) when the files are unusable. */
  public static ServerTls load(TlsSettings settings) {
    try {
      return new ServerTls(settings, build(settings, digest(settings)));
    } catch (IOException e) {
      throw new UncheckedIOException("sluice.http.tls: " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("sluice.http.tls: " + e.getMessage(), e);
    }
  }

  /** A server engine for one new connection, from the current identity. */
  public SSLEngine createEngine() {
    Loaded now = current.get();
    SSLEngine engine = now.context.createSSLEngine();
    engine.setUseClientMode(false);
    SSLParameters params = engine.getSSLParameters();
    params.setProtocols(now.protocols);
    params.setCipherSuites(now.suites);
    params.setUseCipherSuitesOrder(true);
    switch (settings.clientAuth()) {
      case NEED -> params.setNeedClientAuth(true);
      case WANT -> params.setWantClientAuth(true);
      case NONE -> { }
    }
    engine.setSSLParameters(params);
    return engine;
  }

  /** The certificate new connections are served with. */
  public X509Certificate certificate() {
    return current.get().leaf;
  }

  /**
   * Reads the files again and, when their content changed and loads completely, makes the new
   * identity the one for new connections. Returns whether it swapped. Never throws: a failed
   * load is logged and the current identity stays.
   */
  public boolean reloadIfChanged() {
    Loaded before = current.get();
    try {
      byte[] digest = digest(settings);
      if (Arrays.equals(digest, before.digest)) {
        return false;
      }
      Loaded next = build(settings, digest);
      current.set(next);
      LOG.info("TLS identity reloaded: serial {}, subject {}, valid until {}", next.leaf.getSerialNumber().toString(16),
          next.leaf.getSubjectX500Principal().getName(), next.leaf.getNotAfter().toInstant());
      return true;
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      LOG.warn("TLS files changed but do not load ({}); still serving serial {}", e.getMessage(),
          before.leaf.getSerialNumber().toString(16));
      return false;
    }
  }

  private static byte[] digest(TlsSettings settings) throws IOException, GeneralSecurityException {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    for (Path file : settings.files()) {
      byte[] bytes = Files.readAllBytes(file);
      sha.update(file.toString().getBytes(StandardCharsets.UTF_8));
      sha.update(longBytes(bytes.length));
      sha.update(bytes);
    }
    return sha.digest();
  }

  private static byte[] longBytes(long v) {
    return java.nio.ByteBuffer.allocate(8).putLong(v).array();
  }

  private static Loaded build(TlsSettings settings, byte[] digest) throws IOException, GeneralSecurityException {
    char[] password = settings.keystorePassword();
    KeyStore keys;
    if (settings.keystore().isPresent()) {
      keys = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(settings.keystore().get())) {
        keys.load(in, password);
      }
      String alias = Collections.list(keys.aliases()).stream().filter(a -> isKeyEntry(keys, a)).findFirst()
          .orElseThrow(() -> new GeneralSecurityException("keystore " + settings.keystore().get() + " holds no private key"));
      checkPair((PrivateKey) keys.getKey(alias, password), keys.getCertificate(alias).getPublicKey());
    } else {
      List<X509Certificate> chain = certificates(settings.cert().get());
      if (chain.isEmpty()) {
        throw new GeneralSecurityException(settings.cert().get() + " holds no certificate");
      }
      PrivateKey key = privateKey(settings.key().get());
      checkPair(key, chain.get(0).getPublicKey());
      password = "sluice".toCharArray();
      keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("server", key, password, chain.toArray(new Certificate[0]));
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    TrustManagerFactory tmf = null;
    if (settings.clientCa().isPresent()) {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (X509Certificate ca : certificates(settings.clientCa().get())) {
        trust.setCertificateEntry("ca-" + (i++), ca);
      }
      tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
    SSLParameters supported = context.getSupportedSSLParameters();
    String[] protocols = only(settings.protocols(), supported.getProtocols(), "protocols");
    String[] suites = only(settings.cipherSuites(), supported.getCipherSuites(), "cipher-suites");
    X509Certificate leaf = leaf(keys);
    return new Loaded(context, protocols, suites, digest, leaf);
  }

  private static boolean isKeyEntry(KeyStore keys, String alias) {
    try {
      return keys.isKeyEntry(alias);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static X509Certificate leaf(KeyStore keys) throws GeneralSecurityException {
    for (String alias : Collections.list(keys.aliases())) {
      if (keys.isKeyEntry(alias)) {
        return (X509Certificate) keys.getCertificate(alias);
      }
    }
    throw new GeneralSecurityException("no private key entry");
  }

  /** The configured names the JDK supports, in the configured order; none at all is an error. */
  private static String[] only(List<String> wanted, String[] supported, String what) throws GeneralSecurityException {
    List<String> have = Arrays.asList(supported);
    String[] kept = wanted.stream().filter(have::contains).toArray(String[]::new);
    if (kept.length == 0) {
      throw new GeneralSecurityException("none of the configured " + what + " " + wanted + " is supported by this JDK");
    }
    return kept;
  }

  /** Signs and verifies a probe, so a key that does not belong to the certificate is refused. */
  private static void checkPair(PrivateKey key, PublicKey pub) throws GeneralSecurityException {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new GeneralSecurityException("unsupported key algorithm " + key.getAlgorithm());
    };
    byte[] probe = "sluice-tls-key-check".getBytes(StandardCharsets.US_ASCII);
    Signature sign = Signature.getInstance(alg);
    sign.initSign(key);
    sign.update(probe);
    byte[] sig = sign.sign();
    Signature verify = Signature.getInstance(alg);
    verify.initVerify(pub);
    verify.update(probe);
    if (!verify.verify(sig)) {
      throw new GeneralSecurityException("the private key does not belong to the certificate");
    }
  }

  static List<X509Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file)) {
      for (Certificate c : factory.generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
    }
    return out;
  }

  static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    Matcher m = PEM.matcher(text);
    while (m.find()) {
      String type = m.group(1);
      switch (type) {
        case "PRIVATE KEY" -> {
          byte[] der = Base64.getMimeDecoder().decode(m.group(2));
          PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
          for (String alg : List.of("RSA", "EC", "Ed25519")) {
            try {
              return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException wrongAlgorithm) {
              // the PKCS#8 envelope names the algorithm; try the next factory
            }
          }
          throw new GeneralSecurityException(file + ": a PKCS#8 key of no supported algorithm (RSA, EC, Ed25519)");
        }
        case "RSA PRIVATE KEY", "EC PRIVATE KEY" -> throw new GeneralSecurityException(file + " is a " + type
            + " (PKCS#1/SEC1); convert it: openssl pkcs8 -topk8 -nocrypt -in KEY -out key.pem");
        case "ENCRYPTED PRIVATE KEY" -> throw new GeneralSecurityException(file
            + " is encrypted; give an unencrypted PKCS#8 key or a PKCS12 keystore with a password");
        default -> { }
      }
    }
    throw new GeneralSecurityException(file + " holds no PEM private key");
  }

  /** Hex serial, as openssl prints it; for logs and tests. */
  static String serial(X509Certificate c) {
    return c.getSerialNumber().toString(16);
  }
}
