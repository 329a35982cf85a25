// Prints, as JSON, the partition Kafka's Java producer picks for each key of a fixed list: the known-answer
// vectors of test/unit/sink/kafka/partition-vectors.json. Run against kafka-clients (see README.md here):
//   javac -cp kafka-clients.jar PartitionVectors.java && java -cp kafka-clients.jar:. PartitionVectors
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

public class PartitionVectors {
  static final String[] KEYS = {
    "", "a", "ab", "abc", "abcd", "abcde", "order-1", "customer-42", "user-123", "LoanRequested-0001",
    "$all", "$connectors/orders/checkpoints", "ünïcødé-ключ", "日本語のストリーム", "emoji-\uD83D\uDE80",
    "eu-1", "us-2", "value1-value2", "customer0_data", "stream-with-a-rather-long-name-0123456789-abcdefghij",
  };
  static final int[] PARTITIONS = {1, 2, 3, 6, 7, 12, 64, 100};

  static String json(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }

  public static void main(String[] args) {
    StringBuilder out = new StringBuilder("{\n  \"partitionCounts\": [");
    for (int i = 0; i < PARTITIONS.length; i++) out.append(i == 0 ? "" : ", ").append(PARTITIONS[i]);
    out.append("],\n  \"vectors\": [\n");
    for (int k = 0; k < KEYS.length; k++) {
      byte[] key = KEYS[k].getBytes(StandardCharsets.UTF_8);
      out.append("    { \"key\": ").append(json(KEYS[k])).append(", \"murmur2\": ").append(Utils.murmur2(key)).append(", \"partitions\": [");
      for (int i = 0; i < PARTITIONS.length; i++) out.append(i == 0 ? "" : ", ").append(BuiltInPartitioner.partitionForKey(key, PARTITIONS[i]));
      out.append("] }").append(k + 1 < KEYS.length ? ",\n" : "\n");
    }
    out.append("  ]\n}\n");
    System.out.print(out);
  }
}
