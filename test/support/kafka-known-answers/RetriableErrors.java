// Prints, as JSON, every error of Kafka's protocol (org.apache.kafka.common.protocol.Errors) with whether Kafka's
// Java client treats it as retriable (its exception is an instance of RetriableException) and the exception's
// superclasses (which say what kind of failure it is: AuthorizationException, AuthenticationException, ...). The committed output is
// test/unit/sink/kafka/kafka-retriable-errors.json (see README.md here for the command).
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

public class RetriableErrors {
  public static void main(String[] args) {
    StringBuilder out = new StringBuilder("{\n  \"kafkaClients\": \"" + org.apache.kafka.common.utils.internals.AppInfoParser.getVersion() + "\",\n  \"errors\": [\n");
    Errors[] all = Errors.values();
    for (int i = 0; i < all.length; i++) {
      Errors error = all[i];
      Throwable exception = error.exception();
      boolean retriable = exception instanceof RetriableException;
      String type = exception == null ? "none" : exception.getClass().getSimpleName();
      // The exception's superclasses up to ApiException: AuthorizationException, AuthenticationException, ...
      StringBuilder parents = new StringBuilder();
      for (Class<?> parent = exception == null ? null : exception.getClass().getSuperclass(); parent != null && parent != RuntimeException.class; parent = parent.getSuperclass()) {
        parents.append(parents.length() == 0 ? "" : ", ").append('"').append(parent.getSimpleName()).append('"');
      }
      out.append("    { \"code\": ").append(error.code()).append(", \"name\": \"").append(error.name()).append("\", \"retriable\": ").append(retriable)
        .append(", \"exception\": \"").append(type).append("\", \"superclasses\": [").append(parents).append("] }").append(i + 1 < all.length ? ",\n" : "\n");
    }
    out.append("  ]\n}\n");
    System.out.print(out);
  }
}
