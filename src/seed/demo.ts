// The small demo catalog loaded by `npm run db:seed` and by the embedded default on first start.
import type { DimensionValues } from "../delivery/types.ts";
import type { SeedData } from "./types.ts";

const none = (): DimensionValues => ({ app: [], country: [], os: [], category: [] });
const values = (v: Partial<DimensionValues>): DimensionValues => ({ ...none(), ...v });
const image = (id: string) => `https://cdn.bullseye.example/creatives/${id}.png`;

export const demoData: SeedData = {
  categories: [
    { id: "music", name: "Music & Audio", apps: ["spotify", "soundcloud", "deezer", "shazam"] },
    { id: "games", name: "Games", apps: ["subwaysurfer", "candycrush", "clashroyale", "minecraft"] },
  ],
  campaigns: [
    {
      id: "spotify",
      name: "Spotify Premium",
      imageUrl: image("spotify"),
      cta: "Listen free",
      status: "ACTIVE",
      priority: 100,
      startsAt: null,
      endsAt: null,
      include: values({ country: ["US", "CA", "GB", "DE"] }),
      exclude: values({ app: ["spotify"] }),
    },
    {
      id: "duolingo",
      name: "Duolingo",
      imageUrl: image("duolingo"),
      cta: "Learn now",
      status: "ACTIVE",
      priority: 50,
      startsAt: null,
      endsAt: null,
      include: values({ os: ["android", "ios"] }),
      exclude: values({ country: ["CN"], category: ["games"] }),
    },
    {
      id: "subwaysurfer",
      name: "Subway Surfers",
      imageUrl: image("subwaysurfer"),
      cta: "Download",
      status: "ACTIVE",
      priority: 80,
      startsAt: null,
      endsAt: null,
      include: values({ category: ["games"] }),
      exclude: values({ app: ["subwaysurfer"] }),
    },
    {
      id: "shazam",
      name: "Shazam",
      imageUrl: image("shazam"),
      cta: "Name that tune",
      status: "ACTIVE",
      priority: 50,
      startsAt: null,
      endsAt: null,
      include: values({ category: ["music"], os: ["ios"] }),
      exclude: values({ app: ["shazam"] }),
    },
    {
      id: "tiktok",
      name: "TikTok",
      imageUrl: image("tiktok"),
      cta: "Watch now",
      status: "PAUSED",
      priority: 90,
      startsAt: null,
      endsAt: null,
      include: values({ country: ["US"] }),
      exclude: none(),
    },
  ],
};
