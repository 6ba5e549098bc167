/** The demo catalog the development start seeds: enough to browse, search and check out. */
export interface DemoProduct {
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  stock: number;
}

const row = (
  sku: string,
  name: string,
  description: string,
  category: string,
  priceCents: number,
  stock: number,
): DemoProduct => ({
  sku,
  name,
  description,
  category,
  priceCents,
  stock,
});

export const demoCatalog: DemoProduct[] = [
  row("KIT-001", "Chef's Knife", "8-inch forged steel chef's knife", "kitchen", 8900, 40),
  row("KIT-002", "Cast Iron Skillet", "Pre-seasoned 12-inch skillet", "kitchen", 4500, 60),
  row("KIT-003", "Pour-Over Coffee Set", "Glass dripper with reusable filter", "kitchen", 3200, 80),
  row("KIT-004", "Bamboo Cutting Board", "Large board with juice groove", "kitchen", 2800, 100),
  row("KIT-005", "Ceramic Teapot", "Hand-glazed 1 litre teapot", "kitchen", 3900, 50),
  row("KIT-006", "Espresso Cups", "Set of four double-walled glass cups", "kitchen", 2400, 120),
  row("GAR-001", "Watering Can", "Galvanised 5 litre watering can", "garden", 3500, 45),
  row("GAR-002", "Pruning Shears", "Bypass pruners with carbon blades", "garden", 2700, 70),
  row("GAR-003", "Herb Seed Kit", "Basil, thyme, parsley and mint seeds", "garden", 1500, 200),
  row("GAR-004", "Terracotta Pots", "Set of three breathable clay pots", "garden", 2200, 90),
  row("GAR-005", "Garden Gloves", "Breathable gloves with grip palms", "garden", 1200, 150),
  row("GAR-006", "Compost Bin", "Kitchen-top compost bin with filter", "garden", 3100, 35),
  row("OUT-001", "Trail Backpack", "28 litre pack with rain cover", "outdoor", 9900, 30),
  row("OUT-002", "Insulated Bottle", "Steel bottle keeps drinks cold for 24 hours", "outdoor", 2900, 150),
  row("OUT-003", "Camp Lantern", "Rechargeable LED lantern, 400 lumens", "outdoor", 4200, 55),
  row("OUT-004", "Hammock", "Parachute nylon hammock with straps", "outdoor", 5400, 40),
  row("OUT-005", "Headlamp", "Waterproof headlamp with red light mode", "outdoor", 3300, 85),
  row("OUT-006", "Camping Stove", "Compact gas stove with piezo ignition", "outdoor", 6500, 25),
  row("DSK-001", "Notebook", "A5 dotted notebook, 160 pages", "desk", 1400, 300),
  row("DSK-002", "Fountain Pen", "Steel nib fountain pen with converter", "desk", 4800, 60),
  row("DSK-003", "Desk Lamp", "Dimmable LED lamp with warm light", "desk", 5900, 40),
  row("DSK-004", "Monitor Stand", "Walnut monitor riser with storage", "desk", 7400, 30),
  row("DSK-005", "Cable Organiser", "Felt cable tidy, set of six", "desk", 1100, 250),
  row("DSK-006", "Wireless Mouse", "Quiet-click wireless mouse", "desk", 2600, 110),
];
