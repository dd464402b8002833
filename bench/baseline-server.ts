// The bench baseline: bare node:http doing the same body read and JSON.parse as /v1/delivery, then
// answering a constant body of the size given in BODY_BYTES. Whatever Bullseye costs beyond this is
// the price of validation, matching and the index.
import http from "node:http";

const size = Number(process.env.BODY_BYTES ?? 200);
const body = Buffer.from(`[${" ".repeat(Math.max(0, size - 2))}]`);
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    res.writeHead(200, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": body.length,
      "Cache-Control": "no-store",
      "X-Index-Version": "1",
    });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(JSON.stringify({ msg: "listening", port: typeof address === "object" && address ? address.port : 0 }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
