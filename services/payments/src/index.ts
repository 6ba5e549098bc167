export type {
  AuthorizeResult,
  CaptureResult,
  CardDetails,
  PaymentProvider,
  ProviderMoney,
  RefundResult,
  TokenizedCard,
  VoidResult,
} from "./domain/payment-provider.js";
export { ProviderUnavailableError } from "./domain/payment-provider.js";
export { TEST_CARDS, TestPaymentProvider, type TestProviderOptions } from "./providers/test-provider.js";
export { createPaymentsService, type PaymentsServiceOptions, paymentsService } from "./service.js";
