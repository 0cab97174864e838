// The statistics' charts (issue #16): Chart.js with only the parts the statistics page and the
// monthly brief draw (bar and line charts), registered once. Shared by stats.js and brief.js.
import { Chart, BarController, LineController, BarElement, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip, Title } from 'chart.js';

Chart.register(BarController, LineController, BarElement, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip, Title);
Chart.defaults.font.family = '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif';

export const COLOURS = { reported: '#1971c2', closed: '#2f9e44', rate: '#e8590c', other: '#868e96' };
export { Chart };
