package io.sluice.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A child JVM or script started by a test, with its output in a log file; stopped by the test. */
class ManagedProcess implements AutoCloseable {
  private final Process process;
  final Path log;

  ManagedProcess(List<String> command, Map<String, String> env, Path log) {
    this.log = log;
    ProcessBuilder pb = new ProcessBuilder(command).directory(Repo.root().toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    try {
      this.process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  boolean alive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** The exit code; only once {@link #alive()} is false. */
  int exitCode() {
    return process.exitValue();
  }

  /** SIGTERM, then wait for a clean exit (coordinated shutdown), then SIGKILL if it hangs. */
  void stop() {
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGTERM without waiting: the process runs its clean shutdown while the caller goes on. */
  void terminate() {
    process.destroy();
  }

  /** Waits up to {@code timeout} for the process to end; true when it has. */
  boolean awaitExit(java.time.Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** kill -9. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      stop();
    }
  }
}
