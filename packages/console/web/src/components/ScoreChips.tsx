import type { ScoreBrief } from '../api/types'
import { scoreText } from '../trace/score-value'

/** A trace's scores as chips, each value as it was posted: `resolved: true`, `feedback: 0.8`, `tone: friendly`. */
export function ScoreChips({ scores }: { scores: ScoreBrief[] }) {
  return (
    <>
      {scores.map((s, i) => (
        <span key={`${s.name}-${i}`} class="chip">
          {s.name}: {scoreText(s)}
        </span>
      ))}
    </>
  )
}
