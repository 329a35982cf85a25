/**
 * The connector bodies of the user documentation (KurrentDB's Kafka sink page), in one place: the demo and the tests
 * that replay the documentation use exactly these, with only the Kafka address (and the topic a test needs) changed.
 */

/** "Sink to Confluent Cloud", step 1: kafka-sink-config.json. */
export function tutorialSettings(bootstrapServers: string): Record<string, string> {
  return {
    instanceTypeName: 'kafka-sink',
    'subscription:filter:scope': 'stream',
    'subscription:filter:filterType': 'prefix',
    'subscription:filter:expression': 'LoanRequest',
    topic: 'loans',
    bootstrapServers,
    'authentication:username': 'UJ',
    'authentication:password': 'Nh',
    'authentication:securityProtocol': 'SaslSsl',
    waitForBrokerAck: 'true',
  }
}

/** The tutorial's Kafka credentials, which a test broker must accept. */
export const tutorialKafkaUser = { name: 'UJ', password: 'Nh' } as const

/** The quickstart's body (both tabs; the Bash tab says `your-topic`, the PowerShell tab `customers`). */
export function quickstartSettings(topic: string, bootstrapServers: string): Record<string, string> {
  return {
    instanceTypeName: 'kafka-sink',
    topic,
    bootstrapServers,
    'subscription:filter:scope': 'stream',
    'subscription:filter:filterType': 'streamId',
    'subscription:filter:expression': 'example-stream',
    'authentication:username': 'your-username',
    'authentication:password': 'your-password',
    'authentication:securityProtocol': 'SaslSsl',
    waitForBrokerAck: 'true',
  }
}

export const quickstartKafkaUser = { name: 'your-username', password: 'your-password' } as const
