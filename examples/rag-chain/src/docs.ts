/** The knowledge base the chain retrieves from: a travel agency's help articles. */
export const DOCS = [
  { id: 'packing-rain', text: 'Packing for rain: bring a light waterproof jacket and an umbrella when the forecast is wet.' },
  { id: 'packing-heat', text: 'Packing for heat: above 25 degrees, pack linen clothes, sunscreen and a refillable bottle.' },
  { id: 'paris-metro', text: 'Getting around Paris: the metro runs until about 1 am; buy a weekly Navigo pass.' },
  { id: 'refunds', text: 'Refunds: bookings cancelled 14 days ahead are refunded in full within 5 business days.' },
]
