// codegen.ts
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql", // the committed SDL: no server needed
  documents: ["src/**/*.ts", "!src/gql/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      config: { enumsAsTypes: true, scalars: { Date: "string", DateTime: "string", JSON: "unknown" } },
    },
  },
};
export default config;
